// The dashboard's entry: sign-in, the page router (#/page/arg?query) and the flash line.
// Each page module exports render(root, route) and may return a stop() that ends its polling.
import {get, session, setToken, setUnauthorizedHandler, token} from './api.js';
import {clear, h} from './dom.js';
import * as dead from './dead.js';
import * as enqueue from './enqueue.js';
import * as overview from './overview.js';
import * as schedules from './schedules.js';
import * as taskView from './task_view.js';
import * as tasks from './tasks.js';
import * as workers from './workers.js';

const pages = {overview, tasks, task: taskView, workers, schedules, dead, enqueue};
const main = document.getElementById('main');
let stopPage = null;

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [path, query = ''] = hash.split('?');
  const [page, ...args] = path.split('/').map(decodeURIComponent);
  return {page, args, query: new URLSearchParams(query)};
}

function route() {
  if (stopPage) stopPage();
  stopPage = null;
  const r = parseRoute();
  const page = pages[r.page] || overview;
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.page === r.page);
  }
  document.getElementById('flash').hidden = true;
  clear(main);
  const root = h('section', {class: 'page', id: 'page-' + r.page});
  main.appendChild(root);
  stopPage = page.render(root, r) || null;
}

function showLogin(message) {
  if (stopPage) stopPage();
  stopPage = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  clear(main);
  const form = document.getElementById('login-template').content.cloneNode(true);
  main.appendChild(form);
  const f = document.getElementById('login');
  document.getElementById('login-error').textContent = message || '';
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setToken(f.elements.token.value.trim());
    await start();
  });
}

async function start() {
  let auth;
  try {
    auth = await get('/api/v1/auth');
  } catch (e) {
    if (e.status === 401) return showLogin(token() ? 'That token is not valid here.' : '');
    clear(main).appendChild(h('p', {class: 'error'}, 'Cannot reach the server: ' + e.message));
    return;
  }
  session.scope = auth.scope;
  session.tokens = auth.tokens_required;
  document.body.classList.toggle('is-admin', auth.scope === 'admin');
  document.getElementById('nav').hidden = false;
  document.getElementById('logout').hidden = !auth.tokens_required;
  document.getElementById('who').textContent =
      auth.tokens_required ? (auth.scope === 'admin' ? 'admin token' : 'read-only token') : '';
  route();
}

setUnauthorizedHandler((message) => showLogin(message));
window.addEventListener('hashchange', () => {
  if (!document.getElementById('nav').hidden) route();
});
document.getElementById('logout').addEventListener('click', () => {
  setToken('');
  document.getElementById('who').textContent = '';
  showLogin('');
});
start();
