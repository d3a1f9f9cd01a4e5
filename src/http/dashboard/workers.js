// Workers: every alive worker on every machine, from the heartbeats in the store; a worker
// whose last heartbeat is older than kStaleMs is flagged (it stopped beating and will drop
// out of the list when its heartbeat expires). Below, the running tasks with how long each
// has run, as each worker's last heartbeat reported them (at most 100 per worker).
import {get} from './api.js';
import {ago, duration, h, num, poll, table, taskLink, time, fill} from './dom.js';

const kStaleMs = 10000;  // five heartbeats missed at the default 2 s

export function render(root) {
  const list = h('div', {class: 'card'}, h('p', null, 'Loading…'));
  const running = h('div', {class: 'card'});
  root.append(h('h1', null, 'Workers'), list, running);
  return poll(async () => {
    let w;
    try {
      w = await get('/api/v1/workers');
    } catch (e) {
      fill(list, h('p', {class: 'error'}, 'Refresh failed: ' + e.message));
      return;
    }
    const stale = (x) => Date.now() - Date.parse(x.last_seen) > kStaleMs;
    const t = table([
      {title: 'Worker', cell: (x) => h('span', {class: 'mono'}, x.id, stale(x) ? h('span', {class: 'badge stale'}, 'stale') : null)},
      {title: 'Host', cell: (x) => x.host},
      {title: 'Pid', cell: (x) => String(x.pid)},
      {title: 'Queues', cell: (x) => x.queues.join(', ')},
      {title: 'Concurrency', cell: (x) => String(x.concurrency)},
      {title: 'Running', cell: (x) => String(x.running)},
      {title: 'Processed', cell: (x) => num(x.processed)},
      {title: 'Failed', cell: (x) => num(x.failed)},
      {title: 'Up', cell: (x) => (x.started ? duration(Date.now() - Date.parse(x.started)) : '—')},
      {title: 'Last heartbeat', cell: (x) => ago(x.last_seen)},
    ], w.workers, 'No worker is alive.');
    t.id = 'workers';
    fill(list, t);
    const rt = table([
      {title: 'Task', cell: (x) => taskLink(x.id)},
      {title: 'Name', cell: (x) => x.task},
      {title: 'Worker', cell: (x) => h('span', {class: 'mono'}, x.worker)},
      {title: 'Started (UTC)', cell: (x) => time(x.started)},
      {title: 'Running for', cell: (x) => (x.started ? duration(Date.now() - Date.parse(x.started)) : '—')},
    ], w.workers.flatMap((x) => (x.tasks || []).map((t) => ({...t, worker: x.id}))), 'No task is running.');
    rt.id = 'running';
    fill(running, h('h2', null, 'Running tasks'), rt);
  }, 2000);
}
