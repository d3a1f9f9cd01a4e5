// Dead letters: every dead task with its reason; admin: retry one, retry all, purge all.
import {del, get, post} from './api.js';
import {act, adminButton, h, num, poll, table, taskLink, time, fill} from './dom.js';

const kShown = 500;

export function render(root) {
  const list = h('div', {class: 'card'}, h('p', null, 'Loading…'));
  let refresh;
  const tools = h('div', {class: 'tools'},
                  adminButton('Retry all', () => act('Retry all dead tasks', () => post('/api/v1/dead/retry', {all: true}),
                                                     'Put every dead task back in its queue?').then(refresh)),
                  adminButton('Purge all', () => act('Purge dead letters', () => del('/api/v1/dead'),
                                                     'Delete every dead letter? This cannot be undone.').then(refresh), 'danger'));
  root.append(h('h1', null, 'Dead letters'), tools, list);
  refresh = async () => {
    let res;
    try {
      res = await get('/api/v1/dead?limit=' + kShown);
    } catch (e) {
      fill(list, h('p', {class: 'error'}, 'Refresh failed: ' + e.message));
      return;
    }
    const t = table([
      {title: 'Id', cell: (d) => taskLink(d.id)},
      {title: 'Task', cell: (d) => d.task},
      {title: 'Queue', cell: (d) => d.queue},
      {title: 'Reason', cell: (d) => h('span', {class: 'error-text'}, d.reason)},
      {title: 'Died (UTC)', cell: (d) => time(d.died_at)},
      {title: '', cell: (d) => adminButton('Retry', () => act('Retry ' + d.id, () => post('/api/v1/dead/retry', {ids: [d.id]})).then(refresh))},
    ], res.dead, 'No dead task.');
    t.id = 'dead';
    fill(list, h('p', {class: 'muted'}, 'Oldest first; ' + num(res.dead.length) + ' shown (at most ' + kShown + ').'), t);
  };
  return poll(refresh, 5000);
}
