// Small SVG charts: a sparkline and a line chart with a y scale. Colours come from CSS
// classes (style.css); no inline styles, which the Content-Security-Policy forbids.
import {h, svg} from './dom.js';

function points(values, w, hgt, max) {
  const n = values.length;
  return values
      .map((v, i) => {
        const x = n <= 1 ? w : (i / (n - 1)) * w;
        const y = hgt - (max > 0 ? (v / max) * (hgt - 2) : 0) - 1;
        return x.toFixed(1) + ',' + y.toFixed(1);
      })
      .join(' ');
}

export function sparkline(values, w = 120, hgt = 24) {
  const max = Math.max(1, ...values);
  return svg('svg', {class: 'spark', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt,
                     'aria-hidden': 'true'},
             svg('polyline', {points: points(values, w, hgt, max), class: 'line'}));
}

// series: [{name, values, cls}] sharing one x axis (oldest first). `unit` labels the scale.
export function lineChart(title, series, unit, w = 560, hgt = 140) {
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const chart = svg('svg', {class: 'chart', viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none',
                            role: 'img', 'aria-label': title},
                    svg('line', {x1: 0, y1: hgt - 1, x2: w, y2: hgt - 1, class: 'axis'}),
                    series.map((s) => svg('polyline', {points: points(s.values, w, hgt, max),
                                                       class: 'line ' + s.cls})));
  const legend = h('div', {class: 'legend'},
                   series.map((s) => h('span', {class: 'key ' + s.cls},
                                       s.name + ' ' + fmt(s.values[s.values.length - 1]) + ' ' + unit)),
                   h('span', {class: 'scale'}, 'max ' + fmt(max) + ' ' + unit));
  return h('figure', {class: 'card chart-card'}, h('figcaption', null, title), chart, legend);
}

function fmt(v) {
  if (v === undefined || v === null || !isFinite(v)) return '—';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2);
}
