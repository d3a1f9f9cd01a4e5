// One task: state, arguments, result, progress, every attempt's error, timestamps, worker;
// refreshed every 2 s until it is final. Admin: revoke (and terminate), retry when dead.
import {get, post} from './api.js';
import {act, adminButton, ago, badge, duration, h, jsonBlock, poll, table, taskLink, time, fill} from './dom.js';

// A workflow step (a chain's next step, a chord's body, a task with depends_on): the tasks it
// takes its inputs from or waits on, as the API reports them in `workflow` — each a link to
// its own page with its task name and state badge; past the listed ones only a count.
function workflowTree(wf) {
  const members = wf.members || [];
  const counts = Object.entries(wf.states || {}).map(([s, n]) => n + ' ' + s).join(', ');
  const node = (m) => h('li', {'data-id': m.id}, taskLink(m.id), ' ',
                        h('span', {class: 'muted'}, m.task || '—'), ' ', badge(m.state));
  return h('div', {class: 'card', id: 'workflow'}, h('h2', null, 'Workflow'),
           h('p', null, (wf.group ? 'Runs after a group of ' : 'Runs after ') + wf.depends_on_count +
                        ' task(s)' + (counts ? ': ' + counts : '') +
                        (wf.counted < wf.depends_on_count ? ' (states of the first ' + wf.counted + ')' : '') + '.'),
           h('ul', {class: 'tree'}, members.map(node)),
           wf.more > 0 ? h('p', {class: 'muted'}, '… and ' + wf.more + ' more') : null);
}

function actions(t, refresh) {
  const path = '/api/v1/tasks/' + encodeURIComponent(t.id);
  if (t.state === 'dead') {
    return h('div', {class: 'tools'},
             adminButton('Retry', () => act('Retry', () => post('/api/v1/dead/retry', {ids: [t.id]})).then(refresh)));
  }
  if (t.final) return null;
  return h('div', {class: 'tools'},
           adminButton('Revoke', () => act('Revoke', () => post(path + '/revoke', {terminate: false}),
                                           'Revoke this task? It will not run (or, if running, ends REVOKED when its worker sees the request).').then(refresh), 'danger'),
           adminButton('Revoke and terminate', () => act('Revoke and terminate', () => post(path + '/revoke', {terminate: true}),
                                                          'Revoke this task and stop it if it is running?').then(refresh), 'danger'));
}

export function render(root, route) {
  const id = route.args[0] || '';
  const body = h('div', null, h('p', null, 'Loading…'));
  root.append(h('h1', null, 'Task ', h('span', {class: 'mono', id: 'task-id'}, id)), body);
  let stop = null;
  const refresh = async () => {
    let t;
    try {
      t = await get('/api/v1/tasks/' + encodeURIComponent(id));
    } catch (e) {
      fill(body, h('p', {class: 'error'}, e.status === 404 ? 'No task ' + id + ' (never enqueued, or its result expired).' : 'Reading the task failed: ' + e.message));
      return;
    }
    show(body, t, refresh);
    if (t.final && stop) stop();
  };
  stop = poll(refresh, 2000);
  return () => stop();
}

function show(body, t, refresh) {
  const ran = t.started ? (t.finished ? Date.parse(t.finished) : Date.now()) - Date.parse(t.started) : null;
  const facts = [
    ['State', badge(t.state)],
    ['Task', h('span', {id: 'task-name'}, t.task || '—')],
    ['Queue', h('span', {id: 'task-queue'}, t.queue || '—')],
    ['Worker', t.worker || '—'],
    ['Attempts', String(t.attempts)],
    ['Enqueued', time(t.enqueued) + ' (' + ago(t.enqueued) + ')'],
    ['Started', time(t.started)],
    ['Finished', time(t.finished)],
    ['Run time', t.started ? duration(ran) : '—'],
    ['Next run', time(t.next_run)],
  ];
  if (t.dead_reason) facts.push(['Dead because', h('span', {class: 'error-text'}, t.dead_reason)]);
  const progress = h('div', {class: 'progress'},
                     h('progress', {max: 1, value: t.progress || 0, id: 'task-progress'}),
                     ' ' + Math.round((t.progress || 0) * 100) + '%');
  const errors = table([
    {title: 'Attempt', cell: (e) => String(e.attempt)},
    {title: 'Type', cell: (e) => e.type},
    {title: 'Message', cell: (e) => h('span', {class: 'error-text'}, e.message)},
    {title: 'At (UTC)', cell: (e) => time(e.at)},
  ], t.errors || [], 'No failed attempt.');
  errors.id = 'task-errors';
  fill(body,
      actions(t, refresh),
      h('div', {class: 'card'}, h('dl', {class: 'facts'}, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])), progress),
      h('div', {class: 'card'}, h('h2', null, 'Arguments'),
        t.args === null || t.args === undefined
            ? h('p', {class: 'muted'}, 'Not kept once a task has finished.')
            : Object.assign(jsonBlock(t.args), {id: 'task-args'})),
      h('div', {class: 'card'}, h('h2', null, 'Result'), Object.assign(jsonBlock(t.result), {id: 'task-result'}),
        t.error ? h('p', null, h('strong', null, t.error_type || 'error'), ': ',
                    h('span', {class: 'error-text', id: 'task-error'}, t.error)) : null),
      h('div', {class: 'card'}, h('h2', null, 'Errors of every attempt'), errors),
      t.workflow ? workflowTree(t.workflow) : null);
}
