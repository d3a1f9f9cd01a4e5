// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core,
// against a real `serve` and real workers (tests/browser/dash_app.cpp) on a real SQLite file
// and a real redis-server, each started here on a free 127.0.0.1 port and stopped by pid.
//
// Environment (set by tests/CMakeLists.txt): DASH_APP (the test app), RUNQ_TOOL (the runq
// tool, whose serve accepts any task name), PLAYWRIGHT_CORE (playwright-core's
// index.mjs), CHROMIUM (/usr/bin/chromium), DASH_SCREENSHOTS (a folder: screenshots of each
// page go there on the SQLite run). Without chromium, playwright-core or redis-server the
// test is skipped (exit 77), except under CI=true, where that is a failure.
import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';

const env = process.env;
const CI = env.CI === 'true';
const CHROMIUM = env.CHROMIUM || '/usr/bin/chromium';
const ADMIN = 'admin-token-browser-0123456789';
const READ = 'read-token-browser-0123456789';
const XSS_SCRIPT = '<script>window.__xss = 1</script>';
const XSS_IMG = '"><img src=x onerror="window.__xss = 2">';
const XSS_NAME = '<img src=x onerror=window.__xss=3>';

function missing(what) {
  if (CI) {
    console.error(`dashboard browser test: ${what} is required under CI`);
    process.exit(1);
  }
  console.log(`dashboard browser test skipped: ${what} not available`);
  process.exit(77);
}

if (!existsSync(CHROMIUM)) missing(CHROMIUM);
if (!env.PLAYWRIGHT_CORE || !existsSync(env.PLAYWRIGHT_CORE)) missing('playwright-core (scripts/install-deps)');
const {chromium} = await import(env.PLAYWRIGHT_CORE);

// ---- processes ---------------------------------------------------------------------------

const children = new Set();

function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], ...opts});
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = new Promise((resolve) => child.on('exit', resolve));
  children.add(child);
  return child;
}

// SIGTERM, then SIGKILL after 5 s; waits for the exit.
async function stop(child) {
  if (!children.delete(child) || child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 5000);
  await child.exited;
  clearTimeout(timer);
}

process.on('exit', () => {
  for (const c of children) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch (e) { /* gone */ }
  }
});

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls `fn` until it returns a truthy value, at most `ms`; returns that value or throws.
async function waitFor(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  for (let i = 0; Date.now() < deadline && i < 10000; ++i) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}` + (last ? `: ${last.message}` : ''));
}

async function startRedis(dir) {
  const port = await freePort();
  const child = start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
                                       '--appendonly', 'no', '--dir', dir]);
  const error = await Promise.race([
    new Promise((resolve) => child.once('error', resolve)),
    waitFor('redis-server', () => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    })).then(() => null),
  ]);
  if (error) {
    children.delete(child);
    return null;
  }
  return {child, url: `redis://127.0.0.1:${port}/0`};
}

// ---- one store's run -----------------------------------------------------------------------

function storeSuite(name, openStore) {
  describe(`dashboard on ${name}`, () => {
    let dir, store, server, worker, base, browser, page;
    // The dialogs the page opened (type and message, in order), and how the next ones are
    // answered: destructive actions must ask first, and a dismissed one must do nothing.
    const dialogs = [];
    let acceptDialogs = true;

    const api = async (method, p, body, token = ADMIN) => {
      const res = await fetch(base + p, {
        method,
        headers: {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json'},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return {status: res.status, body: await res.json().catch(() => null)};
    };
    const enqueue = async (task) => {
      const r = await api('POST', '/api/v1/tasks', task);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.id;
    };
    const taskState = async (id) => (await api('GET', '/api/v1/tasks/' + id)).body.state;
    const shot = async (file, fullPage = true) => {
      if (name === 'sqlite' && env.DASH_SCREENSHOTS) {
        await page.screenshot({path: path.join(env.DASH_SCREENSHOTS, `dashboard-${file}.png`), fullPage});
      }
    };

    async function login(p, token) {
      await p.goto(base + '/');
      await p.fill('input[name=token]', token);
      await p.click('#login button[type=submit]');
      await p.waitForSelector('#nav:not([hidden])');
    }

    // Opens a dashboard page (a hash) and waits until the router has drawn it: a hash change
    // redraws asynchronously, after goto returns, so a form filled at once could be replaced.
    async function open(hash) {
      await page.evaluate(() => document.querySelector('#main > section')?.setAttribute('data-old', ''));
      await page.goto(base + '/' + hash);
      await page.locator('#main > section:not([data-old])').waitFor();
    }

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'runq-dash-'));
      store = await openStore(dir);
      if (!store) {
        if (CI) throw new Error(`${name}: the store could not be started`);
        return;
      }
      writeFileSync(path.join(dir, 'admin'), ADMIN);
      writeFileSync(path.join(dir, 'read'), READ);
      // The runq tool's serve knows no task registry, so it accepts any task name.
      server = start(env.RUNQ_TOOL, ['--store', store.url, 'serve', '--port', '0', '--token-file',
                                    path.join(dir, 'admin'), '--read-token-file', path.join(dir, 'read')]);
      const port = await waitFor('runq serve to listen', () => {
        const m = /127\.0\.0\.1:(\d+)/.exec(server.output);
        return m && m[1];
      });
      base = `http://127.0.0.1:${port}`;
      worker = start(env.DASH_APP, ['--store', store.url, 'worker', '--queues', 'work', '-c', '2', '--beat']);
      browser = await chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox']});
      page = await browser.newPage({viewport: {width: 1280, height: 800}});
      page.on('dialog', (d) => {  // the confirmations of destructive actions
        dialogs.push({type: d.type(), message: d.message()});
        return acceptDialogs ? d.accept() : d.dismiss();
      });
      page.on('pageerror', (e) => console.log('page error:', e.message));
      await login(page, ADMIN);
    });

    after(async () => {
      if (browser) await browser.close();
      for (const c of [...children]) await stop(c);
      if (dir) rmSync(dir, {recursive: true, force: true});
    });

    test('overview shows the counts after an enqueue', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      for (let i = 0; i < 3; ++i) await enqueue({name: 'add', args: [i, i], queue: 'ov'});
      await page.goto(base + '/#/overview');
      const row = page.locator('#queues tbody tr', {hasText: 'ov'});
      await waitFor('the ov row to show 3 pending', async () =>
        (await row.locator('td').nth(1).textContent()) === '3');
      await waitFor('a worker alive', async () =>
        (await page.locator('[data-stat=workers] .value').textContent()) === '1');
    });

    test('task arguments, names and errors are shown as text, never as markup', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const queued = await enqueue({name: XSS_NAME, args: [XSS_SCRIPT, XSS_IMG], queue: 'xss'});
      const failed = await enqueue({name: 'fail_with', args: [XSS_SCRIPT + XSS_IMG], queue: 'work'});
      await waitFor('the failing task to fail', async () => (await taskState(failed)) === 'failure');

      await page.goto(base + '/#/tasks?queue=xss');
      await page.waitForSelector('#tasks tbody tr td a');
      assert.equal(await page.locator('#tasks tbody tr td').nth(1).textContent(), XSS_NAME);
      await page.goto(base + '/#/task/' + queued);
      await page.waitForSelector('#task-args');
      assert.deepEqual(JSON.parse(await page.locator('#task-args').textContent()), [XSS_SCRIPT, XSS_IMG]);
      assert.equal(await page.locator('#task-name').textContent(), XSS_NAME);
      await page.goto(base + '/#/task/' + failed);
      await page.waitForSelector('#task-error');
      assert.equal(await page.locator('#task-error').textContent(), XSS_SCRIPT + XSS_IMG);
      assert.equal(await page.locator('#task-errors tbody td').nth(2).textContent(), XSS_SCRIPT + XSS_IMG);
      assert.equal(await page.locator('#task-queue').textContent(), 'work');  // kept once finished
      await shot('task');

      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.locator('main script').count(), 0);
    });

    test('Retry on a dead task puts it back and it runs', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const id = await enqueue({name: 'add', args: [2, 3], queue: 'limbo'});
      // A worker that does not know "add" dead-letters it.
      const unknowing = start(env.DASH_APP, ['--store', store.url, 'worker', '--queues', 'limbo'],
                              {env: {...env, DASH_APP_FORGETS_ADD: '1'}});
      await waitFor('the task to be dead-lettered', async () => (await taskState(id)) === 'dead');
      await stop(unknowing);

      await page.goto(base + '/#/dead');
      const row = page.locator('#dead tbody tr', {hasText: id});
      await row.waitFor();
      await shot('dead');
      await row.getByRole('button', {name: 'Retry'}).click();
      await waitFor('the task to be pending again', async () => (await taskState(id)) === 'pending');

      const knowing = start(env.DASH_APP, ['--store', store.url, 'worker', '--queues', 'limbo']);
      await waitFor('the retried task to succeed', async () => (await taskState(id)) === 'success');
      await stop(knowing);
      assert.equal((await api('GET', '/api/v1/tasks/' + id)).body.result, 5);
      // The finished task's page still names the queue it ran from.
      await open('#/task/' + encodeURIComponent(id));
      await waitFor('the succeeded task\'s page', async () =>
        (await page.locator('#task-id').textContent()) === id &&
        (await page.locator('.facts .badge').first().textContent()) === 'success');
      assert.equal(await page.locator('#task-queue').textContent(), 'limbo');
    });

    test('Purge a queue asks first, and a confirmed purge empties it', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const ids = [];
      for (let i = 0; i < 3; ++i) ids.push(await enqueue({name: 'add', args: [i, 1], queue: 'purge-me'}));
      const pending = async () =>
        (await api('GET', '/api/v1/queues')).body.queues.find((q) => q.name === 'purge-me')?.pending ?? 0;
      assert.equal(await pending(), 3);
      await open('#/overview');
      const row = page.locator('#queues tbody tr').filter({has: page.getByRole('link', {name: 'purge-me', exact: true})});
      await waitFor('the purge-me row to show 3 pending', async () =>
        (await row.locator('td').nth(1).textContent({timeout: 1000})) === '3');

      // Dismissed: the dialog was shown and nothing is deleted.
      const before = dialogs.length;
      acceptDialogs = false;
      try {
        await row.getByRole('button', {name: 'Purge'}).click();
        await waitFor('the confirmation dialog', () => dialogs.length === before + 1);
      } finally {
        acceptDialogs = true;
      }
      assert.equal(dialogs[before].type, 'confirm');
      assert.match(dialogs[before].message, /"purge-me"/);
      assert.equal(await pending(), 3);
      for (const id of ids) assert.equal(await taskState(id), 'pending');

      // Confirmed: the queue's pending count goes to 0 in the API and on the page.
      await row.getByRole('button', {name: 'Purge'}).click();
      await waitFor('the second confirmation', () => dialogs.length === before + 2);
      assert.equal(dialogs[before + 1].type, 'confirm');
      await waitFor('the queue to be purged', async () => (await pending()) === 0);
      await waitFor('the page to show 0 pending (or drop the empty queue)', async () =>
        (await row.count()) === 0 || (await row.locator('td').nth(1).textContent({timeout: 1000})) === '0');
      for (const id of ids) assert.notEqual(await taskState(id), 'pending');
    });

    test('Retry all matching dead tasks asks first, retries only the matching ones, and they run', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const lost = [];
      for (let i = 0; i < 3; ++i) lost.push(await enqueue({name: 'add', args: [i, 10], queue: 'lost-a'}));
      const other = await enqueue({name: 'add', args: [0, 0], queue: 'lost-b'});
      const unknowing = start(env.DASH_APP, ['--store', store.url, 'worker', '--queues', 'lost-a,lost-b'],
                              {env: {...env, DASH_APP_FORGETS_ADD: '1'}});
      await waitFor('four dead letters', async () =>
        (await Promise.all([...lost, other].map(taskState))).every((s) => s === 'dead'));
      await stop(unknowing);

      await open('#/tasks?queue=lost-a&state=dead');
      await waitFor('the three dead tasks listed', async () =>
        (await page.locator('#tasks tbody tr td a').allTextContents()).sort().join() === [...lost].sort().join());
      const before = dialogs.length;
      await page.getByRole('button', {name: 'Retry all matching'}).click();
      await waitFor('the confirmation dialog', () => dialogs.length === before + 1);
      assert.equal(dialogs[before].type, 'confirm');
      assert.match(dialogs[before].message, /^Put 3 dead task\(s\) matching the filter back/);
      await waitFor('the three to be pending again', async () =>
        (await Promise.all(lost.map(taskState))).every((s) => s === 'pending'));
      assert.equal(await taskState(other), 'dead');  // another queue's dead task: not matching

      const knowing = start(env.DASH_APP, ['--store', store.url, 'worker', '--queues', 'lost-a']);
      await waitFor('the retried tasks to succeed', async () =>
        (await Promise.all(lost.map(taskState))).every((s) => s === 'success'), 20000);
      await stop(knowing);
      assert.deepEqual(await Promise.all(lost.map(async (id) => (await api('GET', '/api/v1/tasks/' + id)).body.result)),
                       [10, 11, 12]);
      assert.equal(await taskState(other), 'dead');
      // A dead task's page names its queue too.
      await open('#/task/' + encodeURIComponent(other));
      await waitFor('the dead task\'s page', async () => (await page.locator('#task-id').textContent()) === other);
      assert.equal(await page.locator('#task-queue').textContent(), 'lost-b');
    });

    test('Revoke from the task page, queued and running', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const parked = await enqueue({name: 'add', args: [1, 1], queue: 'parked'});
      await page.goto(base + '/#/task/' + parked);
      await page.getByRole('button', {name: 'Revoke', exact: true}).click();
      await waitFor('the queued task to be revoked', async () => (await taskState(parked)) === 'revoked');

      const running = await enqueue({name: 'slow', args: [60000], queue: 'work'});
      await waitFor('the slow task to run', async () => (await taskState(running)) === 'reserved');
      await page.goto(base + '/#/workers');
      // The worker's heartbeat reports the task with its start time.
      const row = page.locator('#running tbody tr', {hasText: running});
      await row.waitFor();
      await waitFor('the running time', async () => /s$/.test(await row.locator('td').nth(4).textContent()));
      await shot('workers');
      await page.goto(base + '/#/task/' + running);
      await page.getByRole('button', {name: 'Revoke and terminate'}).click();
      await waitFor('the running task to be revoked', async () => (await taskState(running)) === 'revoked', 20000);
      await page.locator('#page-task .badge', {hasText: 'revoked'}).waitFor();
    });

    test('a workflow step\'s page shows its members with their names and states', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const made = start(env.DASH_APP, ['--store', store.url, 'workflows']);
      assert.equal(await made.exited, 0, made.output);
      children.delete(made);
      const ids = JSON.parse(made.output.trim().split('\n').pop());
      // What a reader sees of the tree: one [task name, state] per node, in member order.
      const nodes = async () => JSON.stringify(await page.locator('#workflow li').evaluateAll((lis) =>
        lis.map((li) => [li.querySelector('.muted').textContent, li.querySelector('.badge').textContent])));
      const stateOf = () => page.locator('.facts .badge').first().textContent({timeout: 1000}).catch(() => '');
      // The page of task `id` shows `state` and the tree `tree`.
      const shown = async (id, state, tree) =>
        (await page.locator('#task-id').textContent()) === id && (await stateOf()) === state &&
        (await nodes()) === JSON.stringify(tree);
      const text = (sel) => page.locator(sel).textContent({timeout: 1000});

      // A chord: the body's page lists the three members it summed.
      await open('#/task/' + encodeURIComponent(ids.chord));
      await waitFor('the chord body and its three members to succeed', () =>
        shown(ids.chord, 'success', [['add', 'success'], ['add', 'success'], ['add', 'success']]), 30000);
      assert.equal(await text('#task-name'), 'total');
      assert.equal(await text('#task-result'), '12');
      assert.equal(await text('#workflow p'), 'Runs after a group of 3 task(s): 3 success.');
      await shot('workflow');
      // Each member is a link to its own page; the first member is add(1, 1).
      const first = page.locator('#workflow li a').first();
      const member = await first.textContent();
      await first.click();
      await waitFor('the member\'s page', async () =>
        (await page.locator('#task-id').textContent()) === member && (await text('#task-result')) === '2');
      assert.equal(await text('#task-name'), 'add');
      assert.equal(await page.locator('#workflow').count(), 0);  // a group member names no dependent

      // A chain, read backwards from its last step: add(+100) after add(+10) after add(1, 2).
      await open('#/task/' + encodeURIComponent(ids.chain));
      await waitFor('the chain to end with 113', async () =>
        (await shown(ids.chain, 'success', [['add', 'success']])) && (await text('#task-result')) === '113', 30000);
      assert.equal(await text('#workflow p'), 'Runs after 1 task(s): 1 success.');
      await page.locator('#workflow li a').click();
      await waitFor('the middle step (13)', async () => (await text('#task-result')) === '13' &&
        (await nodes()) === JSON.stringify([['add', 'success']]));
      await page.locator('#workflow li a').click();
      await waitFor('the first step (3)', async () => (await text('#task-result')) === '3');
      assert.equal(await page.locator('#workflow').count(), 0);

      // A chord whose second member failed: the body never ran and names the failed member.
      await open('#/task/' + encodeURIComponent(ids.failed_chord));
      await waitFor('the failed chord', () =>
        shown(ids.failed_chord, 'failure', [['add', 'success'], ['fail_with_int', 'failure']]), 30000);
      assert.match(await text('#task-error'), /1 of 2 chord member\(s\) failed: .*\(fail_with_int\)/);
      assert.equal(await text('#workflow p'), 'Runs after a group of 2 task(s): 1 failure, 1 success.');

      // A chord on a queue no worker takes from: the body waits, its members are pending.
      await open('#/task/' + encodeURIComponent(ids.waiting_chord));
      await waitFor('the waiting chord', () =>
        shown(ids.waiting_chord, 'waiting', [['add', 'pending'], ['add', 'pending']]));
      assert.equal(await text('#task-name'), 'total');
      // ... and the task list's state filter finds it.
      await open('#/tasks');
      await page.fill('#task-filters input[name=queue]', 'held');
      await page.selectOption('#task-filters select[name=state]', 'waiting');
      await page.click('#task-filters button[type=submit]');
      await waitFor('the waiting body listed', async () =>
        JSON.stringify(await page.locator('#tasks tbody tr').evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].slice(0, 4).map((td) => td.textContent)))) ===
        JSON.stringify([[ids.waiting_chord, 'total', 'held', 'waiting']]));
    });

    test('filters and pagination over 10,000 tasks', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      for (let b = 0; b < 2; ++b) {
        const tasks = [];
        for (let i = 0; i < 5000; ++i) tasks.push({name: i % 2 ? 'beta' : 'alpha', args: [b, i], queue: 'bulk'});
        const r = await api('POST', '/api/v1/tasks/batch', {tasks});
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
      await page.goto(base + '/#/tasks');
      await page.fill('#task-filters input[name=queue]', 'bulk');
      await page.fill('#task-filters input[name=task]', 'alpha');
      await page.selectOption('#task-filters select[name=limit]', '500');
      await page.click('#task-filters button[type=submit]');
      const seen = new Set();
      let lastEnqueued = '9999';
      for (let p = 0; p < 4; ++p) {
        await waitFor(`page ${p + 1} of 500 rows`, async () =>
          (await page.locator('#tasks tbody tr').count()) === 500 &&
          !seen.has(await page.locator('#tasks tbody tr td a').first().textContent()));
        const rows = await page.locator('#tasks tbody tr').evaluateAll((trs) =>
          trs.map((tr) => [...tr.children].map((td) => td.textContent)));
        for (const [id, task, queue, state, enqueued] of rows) {
          assert.equal(task, 'alpha');
          assert.equal(queue, 'bulk');
          assert.equal(state, 'pending');
          assert.ok(!seen.has(id), 'listed twice: ' + id);
          assert.ok(enqueued <= lastEnqueued, 'not newest first');
          seen.add(id);
          lastEnqueued = enqueued;
        }
        if (p === 0) await shot('tasks', false);
        await page.click('#next-page');
      }
      assert.equal(seen.size, 2000);
      // A time range before every task matches nothing.
      await page.goto(base + '/#/tasks?queue=bulk&to=2000-01-01T00%3A00%3A00.000Z');
      await page.locator('#tasks td.empty').waitFor();
      // The state filter.
      await page.goto(base + '/#/tasks?queue=parked&state=revoked');
      await page.locator('#tasks tbody tr td a').first().waitFor();
      assert.deepEqual(await page.locator('#tasks tbody tr td:nth-child(4)').allTextContents(), ['revoked']);
      await page.goto(base + '/#/tasks?queue=bulk&state=success');
      await page.locator('#tasks td.empty').waitFor();
    });

    test('argument text search narrows the task list and shows arguments as text', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const needle = await enqueue({name: 'add', args: ['needle-q9z', 1], queue: 'hay'});
      const tasks = [];
      for (let i = 0; i < 500; ++i) tasks.push({name: 'add', args: ['hay-' + i, i], queue: 'hay'});
      assert.equal((await api('POST', '/api/v1/tasks/batch', {tasks})).status, 201);
      const ids = () => page.locator('#tasks tbody tr td a').allTextContents();

      await open('#/tasks?queue=hay');
      await waitFor('a full first page', async () => (await ids()).length === 50);
      await page.fill('#task-filters input[name=q]', 'needle-q9z');
      await page.click('#task-filters button[type=submit]');
      await waitFor('the one match', async () => (await ids()).join() === needle);
      assert.equal(await page.locator('#tasks tbody tr td.args').textContent(), '["needle-q9z",1]');
      assert.equal(await page.inputValue('#task-filters input[name=q]'), 'needle-q9z');
      assert.match(page.url(), /[#&?]q=needle-q9z(&|$)/);  // the search is part of the address
      // Eleven of the 500 contain "hay-12": the list narrows to them, each showing its arguments.
      await page.fill('#task-filters input[name=q]', 'hay-12');
      await page.click('#task-filters button[type=submit]');
      await waitFor('the eleven matches', async () => (await ids()).length === 11);
      for (const args of await page.locator('#tasks tbody tr td.args').allTextContents()) {
        assert.match(args, /^\["hay-12\d?",12\d?\]$/);
      }
      await shot('search', false);
      // Without a queue the search reads on through the other queues' tasks and still finds it.
      await open('#/tasks');
      await page.fill('#task-filters input[name=q]', 'needle-q9z');
      await page.click('#task-filters button[type=submit]');
      await waitFor('the one match in every queue', async () => (await ids()).join() === needle);
      // The id field jumps straight to a task's page.
      await page.fill('#task-filters input[name=id]', needle);
      await page.click('#task-filters button[type=submit]');
      await waitFor('the needle\'s page', async () => (await page.locator('#task-id').textContent()) === needle &&
        (await page.locator('#task-args').textContent({timeout: 1000}).catch(() => '')).includes('"needle-q9z"'));

      // HTML in the arguments and in the search text stays text.
      await open('#/tasks?queue=xss');
      await page.fill('#task-filters input[name=q]', XSS_SCRIPT);
      await page.click('#task-filters button[type=submit]');
      await waitFor('the XSS task found', async () =>
        (await page.locator('#tasks tbody tr td.args').textContent({timeout: 1000}).catch(() => '')) ===
        JSON.stringify([XSS_SCRIPT, XSS_IMG]));
      assert.equal(await page.locator('#tasks tbody tr td').nth(1).textContent(), XSS_NAME);
      assert.equal(await page.inputValue('#task-filters input[name=q]'), XSS_SCRIPT);
      assert.equal(await page.evaluate(() => window.__xss), undefined);
      assert.equal(await page.locator('main script').count(), 0);
      assert.equal(await page.locator('main img').count(), 0);
    });

    test('pause and resume a schedule from the schedules page', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const paused = async () =>
        (await api('GET', '/api/v1/schedules')).body.schedules.find((s) => s.name === 'every-minute-add').paused;
      await open('#/schedules');
      const row = page.locator('#schedules tbody tr', {hasText: 'every-minute-add'});
      await row.waitFor();
      assert.equal(await paused(), false);
      const state = () => row.locator('td').nth(7).textContent({timeout: 1000});
      assert.equal(await state(), 'active');
      const before = dialogs.length;
      await row.getByRole('button', {name: 'Pause'}).click();
      await waitFor('the schedule shown paused', async () => (await state()) === 'paused');
      assert.equal(await row.locator('td').nth(4).textContent(), 'paused');  // no next run
      assert.equal(await paused(), true);
      await row.getByRole('button', {name: 'Resume'}).click();
      await waitFor('the schedule shown active', async () => (await state()) === 'active');
      assert.notEqual(await row.locator('td').nth(4).textContent(), 'paused');
      assert.equal(await paused(), false);
      assert.equal(dialogs.length, before);  // pausing destroys nothing: no confirmation
    });

    test('schedules and enqueue pages', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      await page.goto(base + '/#/schedules');
      await page.locator('#schedules tbody tr', {hasText: 'every-minute-add'}).waitFor();
      await shot('schedules');
      await page.goto(base + '/#/enqueue');
      await page.fill('#enqueue-form input[name=name]', 'add');
      await page.fill('#enqueue-form input[name=queue]', 'work');
      await page.fill('#enqueue-form textarea[name=args]', '[20, 22]');
      await page.click('#enqueue-form button[type=submit]');
      const id = await waitFor('the new id', async () => (await page.locator('#enqueued a').textContent()) || null);
      await waitFor('the enqueued task to succeed', async () => (await taskState(id)) === 'success');
      await page.fill('#enqueue-form textarea[name=args]', '{"not": "an array"}');
      await page.click('#enqueue-form button[type=submit]');
      await page.locator('#flash.error').waitFor();
      await shot('enqueue');
    });

    test('pause a queue, and workers stop taking from it', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const probe = await api('POST', '/api/v1/queues/work/resume');
      if (probe.status === 501) return t.skip('queue pause is not in this build');
      // A task for later keeps the queue listed.
      await enqueue({name: 'add', args: [0, 0], queue: 'work', countdown: 3600});
      await page.goto(base + '/#/overview');
      const row = page.locator('#queues tbody tr', {hasText: 'work'});
      await row.getByRole('button', {name: 'Pause'}).click();
      await row.locator('.badge.paused').waitFor();
      assert.equal((await api('GET', '/api/v1/queues')).body.queues.find((q) => q.name === 'work').paused, true);
      const id = await enqueue({name: 'add', args: [1, 2], queue: 'work'});
      // The worker polls at least every second; give it five to (wrongly) take the task.
      await assert.rejects(waitFor('the task to run', async () => (await taskState(id)) !== 'pending', 5000));
      await row.getByRole('button', {name: 'Resume'}).click();
      await waitFor('the task to run after resume', async () => (await taskState(id)) === 'success');
    });

    test('the overview charts the last hour from the workers\' heartbeats', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      await page.goto(base + '/#/overview');
      // A task name's row (exactly: "fail_with_int" is another task name).
      const named = (n) => page.locator('#task-names tbody tr').filter({has: page.getByRole('link', {name: n, exact: true})});
      const add = named('add');
      // This worker ran the enqueue form's "add" (the retried dead letter ran on a worker that
      // has stopped since: its share left with it).
      await waitFor('add counted as succeeded', async () =>
        Number(await add.locator('td').nth(1).textContent()) >= 1);
      const failWith = named('fail_with');
      assert.equal(await failWith.locator('td').nth(2).textContent(), '1');
      await waitFor('the hour total', async () =>
        Number((await page.locator('[data-stat=hour-completed] .value').textContent()).replace(/,/g, '')) >= 3);
      await shot('overview');
    });

    test('a read-only token sees no action, and the API refuses them', async (t) => {
      if (!store) return t.skip(`${name} not available`);
      const ctx = await browser.newContext();
      const ro = await ctx.newPage();
      await login(ro, READ);
      assert.equal(await ro.locator('#who').textContent(), 'read-only token');
      await ro.locator('#queues tbody tr').first().waitFor();
      assert.equal(await ro.locator('#page-overview button').count(), 0);
      assert.ok(!(await ro.locator('a[data-page=enqueue]').isVisible()));
      await ro.goto(base + '/#/dead');
      await ro.locator('#dead').waitFor();
      assert.equal(await ro.locator('#page-dead button').count(), 0);
      const anyTask = (await api('GET', '/api/v1/tasks?queue=bulk&limit=1')).body.tasks[0].id;
      await ro.goto(base + '/#/task/' + anyTask);
      await ro.locator('#task-args').waitFor();
      assert.equal(await ro.locator('#page-task button').count(), 0);
      await ctx.close();
      for (const [m, p] of [['POST', '/api/v1/queues/bulk/purge'], ['POST', '/api/v1/dead/retry'],
                            ['POST', `/api/v1/tasks/${anyTask}/revoke`], ['DELETE', '/api/v1/dead']]) {
        assert.equal((await api(m, p, {all: true}, READ)).status, 403, `${m} ${p}`);
      }
      // A wrong token gets the login form back.
      const bad = await browser.newContext();
      const bp = await bad.newPage();
      await bp.goto(base + '/');
      await bp.fill('input[name=token]', 'not-the-token-0123456789');
      await bp.click('#login button[type=submit]');
      await bp.locator('#login-error', {hasText: 'not valid'}).waitFor();
      await bad.close();
    });
  });
}

storeSuite('sqlite', async (dir) => ({url: 'sqlite:' + path.join(dir, 'runq.db')}));
storeSuite('redis', async (dir) => {
  const r = await startRedis(dir);
  if (!r && !CI) console.log('redis-server not available: the Redis run is skipped');
  return r;
});
