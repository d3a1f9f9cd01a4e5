// Building the page without HTML strings. Every value that comes from the API (task names,
// arguments, errors, queue names) goes into the page as text (textContent, text nodes),
// never through innerHTML, so it can never become markup or script.
import {isAdmin} from './api.js';

// h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child, [more]) -> an element.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

// The same for SVG elements (charts).
export function svg(tag, props, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'disabled' || k === 'max') el[k] = v;
    else el.setAttribute(k, String(v));
  }
}

// Appends strings (as text nodes), numbers, nodes and (nested) arrays; skips null/false.
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// A link to a dashboard page; `parts` are encoded, so an id can never leave the hash.
export function link(text, page, ...parts) {
  const href = '#/' + [page, ...parts.map(encodeURIComponent)].join('/');
  return h('a', {href}, text);
}

export function taskLink(id) {
  return h('a', {href: '#/task/' + encodeURIComponent(id), class: 'mono'}, id);
}

export function badge(state) {
  return h('span', {class: 'badge state-' + String(state).replace(/[^a-z]/g, '')}, state);
}

// A table: columns [{title, cell: row -> node|string, class (of its cells, optional)}], rows.
export function table(columns, rows, empty = 'Nothing here.') {
  const head = h('tr', null, columns.map((c) => h('th', null, c.title)));
  const body = rows.length
    ? rows.map((r) => h('tr', null, columns.map((c) => h('td', {class: c.class}, c.cell(r)))))
    : [h('tr', null, h('td', {colspan: columns.length, class: 'empty'}, empty))];
  return h('table', null, h('thead', null, head), h('tbody', null, body));
}

export function num(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '—';
}

// "2026-12-07T15:00:00.000Z" -> "2026-12-07 15:00:00" (UTC), or "—".
export function time(iso) {
  if (!iso) return '—';
  return String(iso).replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// A duration in ms as "850 ms", "12.3 s", "4 min 10 s", "2 h 5 min".
export function duration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
  const s = Math.floor(ms / 1000);
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

export function ago(iso) {
  return iso ? duration(Date.now() - Date.parse(iso)) + ' ago' : '—';
}

// JSON pretty-printed inside <pre> (as text).
export function jsonBlock(value) {
  return h('pre', {class: 'json'}, value === null || value === undefined ? 'null'
                                                                          : JSON.stringify(value, null, 2));
}

// Runs `fn` now and every `ms` while the tab is visible; a hidden tab stops polling and a
// visible one polls again at once. Returns stop().
export function poll(fn, ms) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    timer = null;
    if (stopped || document.hidden) return;
    try {
      await fn();
    } finally {
      if (!stopped && !document.hidden) timer = setTimeout(tick, ms);
    }
  };
  const onVisible = () => {
    if (!document.hidden && timer === null) tick();
  };
  document.addEventListener('visibilitychange', onVisible);
  tick();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

// A message under the header, ok (green) or error (red), until the next page or message.
export function flash(message, kind = 'ok') {
  const el = document.getElementById('flash');
  el.textContent = message;
  el.className = 'flash ' + kind;
  el.hidden = false;
}

// Runs an action (an API call), reporting its outcome in the flash line. A destructive one
// (`confirmText` given) asks first. Returns the action's value, or undefined.
export async function act(label, fn, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return undefined;
  try {
    const out = await fn();
    flash(label + ': done');
    return out;
  } catch (e) {
    flash(label + ' failed: ' + e.message, 'error');
    return undefined;
  }
}

// A button that exists only for the admin token (null for a read-only one; the API refuses
// their requests anyway).
export function adminButton(text, onclick, cls = '') {
  if (!isAdmin()) return null;
  return h('button', {type: 'button', class: ('admin-only ' + cls).trim(), onclick}, text);
}

// Replaces el's children with `children` (as append: null and false are skipped).
export function fill(el, ...children) {
  return append(clear(el), children);
}
