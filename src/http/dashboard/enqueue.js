// Enqueue a task by name with JSON arguments (admin). The server checks everything again;
// the form only catches malformed JSON early.
import {get, isAdmin, post} from './api.js';
import {flash, h, link} from './dom.js';

export function render(root) {
  root.append(h('h1', null, 'Enqueue a task'));
  if (!isAdmin()) {
    root.append(h('p', {class: 'error'}, 'Enqueueing needs the admin token.'));
    return null;
  }
  const names = h('datalist', {id: 'task-names'});
  get('/api/v1/tasks/names').then((r) => names.append(...r.names.map((n) => h('option', {value: n})))).catch(() => {});
  const out = h('p', {id: 'enqueued'});
  const form = h('form', {class: 'card enqueue', id: 'enqueue-form'},
                 h('label', null, 'Task name', h('input', {name: 'name', list: 'task-names', required: 'required'})), names,
                 h('label', null, 'Queue', h('input', {name: 'queue', placeholder: 'default'})),
                 h('label', null, 'Priority (0–9)', h('input', {name: 'priority', type: 'number', min: 0, max: 9, value: '0'})),
                 h('label', null, 'Countdown', h('input', {name: 'countdown', placeholder: 'e.g. 30s, 5m (empty: now)'})),
                 h('label', {class: 'wide'}, 'Arguments (a JSON array)', h('textarea', {name: 'args', rows: 6, class: 'mono', value: '[]'})),
                 h('button', {type: 'submit'}, 'Enqueue'), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const e = form.elements;
    let args;
    try {
      args = JSON.parse(e.args.value || '[]');
    } catch (err) {
      return flash('Arguments are not valid JSON: ' + err.message, 'error');
    }
    if (!Array.isArray(args)) return flash('Arguments must be a JSON array, e.g. [2, 3].', 'error');
    const body = {name: e.name.value.trim(), args, priority: Number(e.priority.value || 0)};
    if (e.queue.value.trim()) body.queue = e.queue.value.trim();
    if (e.countdown.value.trim()) body.countdown = e.countdown.value.trim();
    try {
      const r = await post('/api/v1/tasks', body);
      flash('Enqueued ' + r.id);
      out.replaceChildren('Enqueued: ', link(r.id, 'task', r.id));
    } catch (err) {
      flash('Enqueue failed: ' + err.message, 'error');
    }
  });
  root.append(form);
  return null;
}
