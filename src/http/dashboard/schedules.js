// Schedules: every periodic schedule with its expression, zone, next run, last run and the
// outcome of the task that run enqueued; admin: pause and resume.
import {get, post} from './api.js';
import {act, adminButton, badge, h, poll, table, taskLink, time, fill} from './dom.js';

async function lastOutcome(s) {
  const id = s.info && s.info.last_task_id;
  if (!id) return null;
  try {
    return (await get('/api/v1/tasks/' + encodeURIComponent(id))).state;
  } catch (e) {
    return e.status === 404 ? 'expired record' : 'unknown';
  }
}

export function render(root) {
  const list = h('div', {class: 'card'}, h('p', null, 'Loading…'));
  root.append(h('h1', null, 'Schedules'), list);
  let refresh;
  refresh = async () => {
    let res;
    try {
      res = await get('/api/v1/schedules');
    } catch (e) {
      fill(list, h('p', {class: 'error'}, 'Refresh failed: ' + e.message));
      return;
    }
    const outcomes = await Promise.all(res.schedules.map(lastOutcome));
    const rows = res.schedules.map((s, i) => ({...s, outcome: outcomes[i], info: s.info || {}}));
    const path = (s) => '/api/v1/schedules/' + encodeURIComponent(s.name);
    const t = table([
      {title: 'Schedule', cell: (s) => h('span', {class: 'mono'}, s.name)},
      {title: 'Expression', cell: (s) => h('span', {class: 'mono'}, s.info.expression || '—')},
      {title: 'Means', cell: (s) => s.info.describe || ''},
      {title: 'Zone', cell: (s) => s.info.zone || 'UTC'},
      {title: 'Next run', cell: (s) => (s.paused ? 'paused' : s.info.next_run_iso || '—')},
      {title: 'Last run', cell: (s) => s.info.last_run_iso || time(s.last_tick)},
      {title: 'Outcome', cell: (s) => (s.outcome ? [badge(s.outcome), ' ', taskLink(s.info.last_task_id)] : '—')},
      {title: 'State', cell: (s) => (s.paused ? h('span', {class: 'badge paused'}, 'paused') : 'active')},
      {title: '', cell: (s) => (s.paused
          ? adminButton('Resume', () => act('Resume ' + s.name, () => post(path(s) + '/resume')).then(refresh))
          : adminButton('Pause', () => act('Pause ' + s.name, () => post(path(s) + '/pause')).then(refresh)))},
    ], rows, 'No periodic schedule is registered.');
    t.id = 'schedules';
    fill(list, t);
  };
  return poll(refresh, 5000);
}
