// Overview: per-queue counts with sparklines, throughput, workers alive; refreshed every 2 s
// while the tab is visible. The last hour (completed and failed per minute, queue-wait and
// run-time percentiles, per task name) comes from GET /api/v1/activity: the workers'
// heartbeats in the store, so it is the same on every machine and survives a reload. The live
// throughput is the change of the store's completed and failed totals between refreshes.
import {get, isAdmin, post} from './api.js';
import {lineChart, sparkline} from './charts.js';
import {act, adminButton, duration, h, link, num, poll, table, fill} from './dom.js';

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
    let q, w, a;
    try {
      [q, w, a] = await Promise.all([get('/api/v1/queues'), get('/api/v1/workers'), get('/api/v1/activity')]);
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
        card('Workers alive', w.workers.length, 'workers'), card('Workers busy', s.busy, 'busy'),
        card('Done in the last hour', a.hour.completed, 'hour-completed'),
        textCard('Queue wait p95 (1 h)', secs(a.hour.wait), 'hour-wait'),
        textCard('Run time p95 (1 h)', secs(a.hour.run), 'hour-run'));
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
    const hour = lastHour(a.minutes);
    const names = Object.keys(a.tasks).sort();
    const perTask = table([
      {title: 'Task', cell: (n) => link(n, 'tasks?task=' + encodeURIComponent(n))},
      {title: 'Succeeded', cell: (n) => num(a.tasks[n].succeeded || 0)},
      {title: 'Failed', cell: (n) => num(a.tasks[n].failed || 0)},
      {title: 'Retried', cell: (n) => num(a.tasks[n].retried || 0)},
      {title: 'Dead', cell: (n) => num(a.tasks[n].dead || 0)},
      {title: 'Revoked', cell: (n) => num(a.tasks[n].revoked || 0)},
      {title: 'Wait p50 / p95', cell: (n) => secs(a.tasks[n].wait, 'p50') + ' / ' + secs(a.tasks[n].wait)},
      {title: 'Run p50 / p95', cell: (n) => secs(a.tasks[n].run, 'p50') + ' / ' + secs(a.tasks[n].run)},
    ], names, 'No worker has reported a task yet.');
    perTask.id = 'task-names';
    fill(charts,
        lineChart('Completed and failed per second (last hour, per minute)',
                  [{name: 'completed', values: hour.map((m) => m.completed / 60), cls: 's-ok'},
                   {name: 'failed', values: hour.map((m) => m.failed / 60), cls: 's-fail'}], '/s'),
        lineChart('Queue wait (s, last hour)', pct(hour, 'wait'), 's'),
        lineChart('Run time (s, last hour)', pct(hour, 'run'), 's'),
        lineChart('Throughput (tasks/s, since this page opened)',
                  [{name: 'completed', values: recent.map((x) => x.done), cls: 's-ok'},
                   {name: 'failed', values: recent.map((x) => x.fail), cls: 's-fail'}],
                  '/s'),
        lineChart('Workers busy', [{name: 'busy', values: recent.map((x) => x.busy), cls: 's-busy'}],
                  ''),
        h('div', {class: 'card wide'}, h('h2', null, 'Tasks by name (alive workers, since each started)'), perTask));
  };
  return poll(refresh, kRefreshMs);
}

// The 60 minutes up to now, oldest first, minutes without tasks as zeros.
function lastHour(minutes) {
  const byStart = new Map(minutes.map((m) => [m.t, m]));
  const now = Date.now();
  const start = now - (now % 60000) - 59 * 60000;
  const zero = {count: 0, p50: 0, p95: 0, p99: 0};
  const out = [];
  for (let t = start; t <= now; t += 60000) {
    out.push(byStart.get(t) || {t, completed: 0, failed: 0, wait: zero, run: zero});
  }
  return out;
}

function pct(hour, key) {
  return [{name: 'p50', values: hour.map((m) => m[key].p50), cls: 's-ok'},
          {name: 'p95', values: hour.map((m) => m[key].p95), cls: 's-busy'},
          {name: 'p99', values: hour.map((m) => m[key].p99), cls: 's-fail'}];
}

function secs(p, which = 'p95') {
  return p && p.count ? duration(p[which] * 1000) : '—';
}

function textCard(title, text, key) {
  return h('div', {class: 'card stat', dataset: {stat: key}}, h('div', {class: 'label'}, title),
           h('div', {class: 'value'}, text));
}

function card(title, value, key) {
  return h('div', {class: 'card stat', dataset: {stat: key}}, h('div', {class: 'label'}, title),
           h('div', {class: 'value'}, num(value)));
}
