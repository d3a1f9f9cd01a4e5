// Tasks: the list with filters (queue, state, task name, enqueue time range, id, argument
// text; a search also shows each task's arguments around the match) and cursor pagination
// over GET /api/v1/tasks. Each store call reads a bounded slice of an index, so a
// page costs the same with 10 or 10,000,000 tasks; a filtered page may come back short with
// a cursor, and the page follows it (at most kMaxCalls calls) to fill itself.
import {get, isAdmin, post, withQuery} from './api.js';
import {act, adminButton, badge, flash, h, table, taskLink, time, fill} from './dom.js';

const kStates = ['', 'pending', 'scheduled', 'retry', 'reserved', 'success', 'failure', 'revoked',
                 'expired', 'dead', 'waiting', 'canceled'];
const kMaxCalls = 20;
const kRetryMax = 10000;  // ids "retry all matching" collects at most

// datetime-local value (local time) <-> ISO for the API.
const toIso = (v) => (v ? new Date(v).toISOString() : '');
const toLocal = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};

function filterOf(query) {
  const f = {};
  for (const k of ['queue', 'state', 'task', 'q', 'from', 'to', 'limit', 'cursor']) {
    if (query.get(k)) f[k] = query.get(k);
  }
  return f;
}

function go(f) {
  location.hash = withQuery('#/tasks', f);
}

// One page: follows short pages' cursors until `limit` tasks or kMaxCalls calls.
async function fetchPage(f) {
  const limit = Number(f.limit || 50);
  let cursor = f.cursor || '';
  const tasks = [];
  for (let calls = 0; calls < kMaxCalls && tasks.length < limit; ++calls) {
    const page = await get(withQuery('/api/v1/tasks', {...f, cursor, limit: limit - tasks.length}));
    tasks.push(...page.tasks);
    cursor = page.next_cursor || '';
    if (!cursor) break;
  }
  return {tasks, next: cursor};
}

async function retryAllMatching(f) {
  const ids = [];
  let cursor = '';
  for (let calls = 0; calls < 1000 && ids.length < kRetryMax; ++calls) {
    const page = await get(withQuery('/api/v1/tasks', {...f, state: 'dead', cursor, limit: 1000}));
    ids.push(...page.tasks.map((t) => t.id));
    cursor = page.next_cursor || '';
    if (!cursor) break;
  }
  if (!ids.length) return flash('No dead task matches the filter.', 'error');
  await act('Retry ' + ids.length + ' dead tasks', async () => {
    let n = 0;
    for (let i = 0; i < ids.length; i += 1000) {
      n += (await post('/api/v1/dead/retry', {ids: ids.slice(i, i + 1000)})).retried;
    }
    return n;
  }, `Put ${ids.length} dead task(s) matching the filter back in their queues?`);
}

export function render(root, route) {
  const f = filterOf(route.query);
  const field = (label, input) => h('label', null, label, input);
  const form = h('form', {class: 'filters card', id: 'task-filters'},
                 field('Id', h('input', {name: 'id', placeholder: 'task id', class: 'mono'})),
                 field('Queue', h('input', {name: 'queue', value: f.queue || ''})),
                 field('State', h('select', {name: 'state'},
                                  kStates.map((s) => h('option', {value: s, selected: s === (f.state || '') ? 'selected' : null},
                                                       s || 'any')))),
                 field('Task name', h('input', {name: 'task', value: f.task || ''})),
                 field('Arguments contain', h('input', {name: 'q', value: f.q || '', placeholder: 'text', maxlength: 200})),
                 field('Enqueued from', h('input', {name: 'from', type: 'datetime-local', value: toLocal(f.from)})),
                 field('to', h('input', {name: 'to', type: 'datetime-local', value: toLocal(f.to)})),
                 field('Per page', h('select', {name: 'limit'},
                                     ['25', '50', '100', '500'].map((n) => h('option', {value: n, selected: n === (f.limit || '50') ? 'selected' : null}, n)))),
                 h('button', {type: 'submit'}, 'Filter'),
                 h('button', {type: 'button', onclick: () => go({})}, 'Clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const e = form.elements;
    if (e.id.value.trim()) {
      location.hash = '#/task/' + encodeURIComponent(e.id.value.trim());
      return;
    }
    go({queue: e.queue.value.trim(), state: e.state.value, task: e.task.value.trim(), q: e.q.value,
        from: toIso(e.from.value), to: toIso(e.to.value), limit: e.limit.value === '50' ? '' : e.limit.value});
  });
  const list = h('div', {class: 'card', id: 'task-list'}, h('p', null, 'Loading…'));
  root.append(h('h1', null, 'Tasks'), form, list);
  load(list, f);
}

async function load(list, f) {
  let page;
  try {
    page = await fetchPage(f);
  } catch (e) {
    fill(list, h('p', {class: 'error'}, 'Listing failed: ' + e.message));
    return;
  }
  const columns = [
    {title: 'Id', cell: (x) => taskLink(x.id)},
    {title: 'Task', cell: (x) => x.task},
    {title: 'Queue', cell: (x) => x.queue},
    {title: 'State', cell: (x) => badge(x.state)},
    {title: 'Enqueued (UTC)', cell: (x) => time(x.enqueued)},
  ];
  // A search shows each task's arguments around the match (the API's args_match), as text.
  if (f.q) columns.push({title: 'Arguments', cell: (x) => x.args_match || '', class: 'args mono'});
  const t = table(columns, page.tasks, 'No task matches.');
  t.id = 'tasks';
  const nav = h('div', {class: 'pager'},
                f.cursor ? h('button', {type: 'button', onclick: () => go({...f, cursor: ''})}, 'First page') : null,
                f.cursor ? h('button', {type: 'button', onclick: () => history.back()}, 'Previous') : null,
                page.next ? h('button', {type: 'button', id: 'next-page', onclick: () => go({...f, cursor: page.next})}, 'Next page') : null,
                h('span', {class: 'count'}, page.tasks.length + ' shown'),
                page.next && page.tasks.length < Number(f.limit || 50)
                    ? h('span', {class: 'muted'}, '(a page reads a bounded part of the index; Next page reads on)')
                    : null);
  const tools = f.state === 'dead' && isAdmin()
      ? h('div', {class: 'tools'}, adminButton('Retry all matching', () => retryAllMatching(f)))
      : null;
  fill(list, tools, t, nav);
}
