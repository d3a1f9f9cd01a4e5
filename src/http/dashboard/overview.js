// Overview: per-queue counts with sparklines, throughput, workers alive; refreshed every 2 s
// while the tab is visible. Throughput is the change of the store's completed and failed
// totals between refreshes, so it is the same whichever server or machine shows it.
import {get, isAdmin, post} from './api.js';
import {lineChart, sparkline} from './charts.js';
import {act, adminButton, h, link, num, poll, table, fill} from './dom.js';

const kRefreshMs = 2000;
const kKeep = 1800;  // samples kept: one hour at one every 2 s

// Survives moving between pages (not a reload): the charts keep their history.
const history = {samples: [], queues: new Map()};

function record(q, w) {
  const now = Date.now();
  const last = history.samples[history.samples.length - 1];
  const s = {at: now, completed: q.completed, failed: q.failed, done: 0, fail: 0};
  if (last && now > last.at) {
    const secs = (now - last.at) / 1000;
    s.done = Math.max(0, (q.completed - q.failed - (last.completed - last.failed)) / secs);
    s.fail = Math.max(0, (q.failed - last.failed) / secs);
  }
  s.busy = w.workers.filter((x) => x.running > 0).length;
  history.samples.push(s);
  if (history.samples.length > kKeep) history.samples.shift();
  for (const queue of q.queues) {
    const h = history.queues.get(queue.name) || [];
    h.push(queue.pending + queue.scheduled + queue.running);
    if (h.length > 60) h.shift();
    history.queues.set(queue.name, h);
  }
}

function queueActions(queue, refresh) {
  const name = queue.name;
  const path = '/api/v1/queues/' + encodeURIComponent(name);
  return h('span', {class: 'actions'},
           queue.paused
               ? adminButton('Resume', () => act('Resume ' + name, () => post(path + '/resume')).then(refresh))
               : adminButton('Pause', () => act('Pause ' + name, () => post(path + '/pause')).then(refresh)),
           adminButton('Purge', () => act('Purge ' + name, () => post(path + '/purge'),
                                          `Delete every pending and scheduled task of queue "${name}"? ` +
                                              'Running tasks are not touched. This cannot be undone.')
                                          .then(refresh),
                       'danger'));
}

export function render(root) {
  const cards = h('div', {class: 'cards'});
  const queues = h('div', {class: 'card'});
  const charts = h('div', {class: 'charts'});
  root.append(h('h1', null, 'Overview'), cards, queues, charts);
  let refresh;
  refresh = async () => {
    let q, w;
    try {
      [q, w] = await Promise.all([get('/api/v1/queues'), get('/api/v1/workers')]);
    } catch (e) {
      fill(cards, h('p', {class: 'error'}, 'Refresh failed: ' + e.message));
      return;
    }
    record(q, w);
    const s = history.samples[history.samples.length - 1];
    const tot = (k) => q.queues.reduce((a, x) => a + x[k], 0);
    fill(cards,
        card('Pending', tot('pending'), 'pending'), card('Scheduled', tot('scheduled'), 'scheduled'),
        card('Running', tot('running'), 'running'), card('Dead', tot('dead'), 'dead'),
        card('Completed', q.completed, 'completed'), card('Failed', q.failed, 'failed'),
        card('Workers alive', w.workers.length, 'workers'), card('Workers busy', s.busy, 'busy'));
    const cols = [
      {title: 'Queue', cell: (x) => link(x.name, 'tasks?queue=' + encodeURIComponent(x.name))},
      {title: 'Pending', cell: (x) => num(x.pending)},
      {title: 'Scheduled', cell: (x) => num(x.scheduled)},
      {title: 'Running', cell: (x) => num(x.running)},
      {title: 'Dead', cell: (x) => num(x.dead)},
      {title: 'Paused', cell: (x) => (x.paused ? h('span', {class: 'badge paused'}, 'paused') : 'no')},
      {title: 'Backlog (2 min)', cell: (x) => sparkline(history.queues.get(x.name) || [])},
    ];
    if (isAdmin()) cols.push({title: '', cell: (x) => queueActions(x, refresh)});
    const t = table(cols, q.queues, 'No queue has tasks yet.');
    t.id = 'queues';
    fill(queues, h('h2', null, 'Queues'), t);
    const recent = history.samples.slice(1);
    fill(charts,
        lineChart('Throughput (tasks/s, since this page opened)',
                  [{name: 'completed', values: recent.map((x) => x.done), cls: 's-ok'},
                   {name: 'failed', values: recent.map((x) => x.fail), cls: 's-fail'}],
                  '/s'),
        lineChart('Workers busy', [{name: 'busy', values: recent.map((x) => x.busy), cls: 's-busy'}],
                  ''));
  };
  return poll(refresh, kRefreshMs);
}

function card(title, value, key) {
  return h('div', {class: 'card stat', dataset: {stat: key}}, h('div', {class: 'label'}, title),
           h('div', {class: 'value'}, num(value)));
}
