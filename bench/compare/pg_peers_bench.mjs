// Graphile Worker and pg-boss driver: `node pg_peers_bench.mjs graphile|pgboss w1|w1-batch|w2|w3
// ...`, one JSON line on stdout, on the PostgreSQL at $BENCH_PG_URL (run-compare-pg starts it).
//
// Same shape as the other peers: two worker processes (one per core). Graphile Worker:
// concurrency 10 per process (its default is 1), LISTEN/NOTIFY wake-ups; it deletes a finished
// job and keeps no result. pg-boss: work() with batchSize 50 and its shortest polling interval
// (0.5 s), completed jobs kept (its default retention), no LISTEN. W1-batch uses each one's
// bulk insert (graphile_worker.add_jobs() in SQL, pg-boss insert()). `worker` is the
// child-process mode.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { run, makeWorkerUtils } from 'graphile-worker';
import PgBoss from 'pg-boss';

const URL = process.env.BENCH_PG_URL;
const PROCS = 2;
const GW_CONCURRENCY = Number(process.env.GRAPHILE_CONCURRENCY || 10);
const BOSS_BATCH = Number(process.env.PGBOSS_BATCH || 50);
const QUEUE = 'bench';
const monoUs = () => Number(process.hrtime.bigint() / 1000n);  // CLOCK_MONOTONIC
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let SYSTEM = 'graphile';
const emit = (o) => console.log(JSON.stringify({ system: SYSTEM, ...o }));

function fail(msg) {
  console.error(`pg_peers_bench: ${msg}`);
  process.exit(1);
}

const LAT_TABLE = 'CREATE TABLE IF NOT EXISTS bench_lat (us bigint)';

// ---- Graphile Worker ----------------------------------------------------------------------

async function graphileWorker() {
  const db = new pg.Pool({ connectionString: URL, max: 2 });
  const runner = await run({
    connectionString: URL,
    concurrency: GW_CONCURRENCY,
    noHandleSignals: true,
    pollInterval: 2000,
    logger: undefined,
    taskList: {
      noop: async () => {},
      stamp: async (payload) => {
        await db.query('INSERT INTO bench_lat VALUES ($1)', [monoUs() - payload.enq]);
      },
    },
  });
  await runner.promise;
}

async function graphileCount(db) {
  const r = await db.query('SELECT count(*)::int AS n FROM graphile_worker.jobs');
  return r.rows[0].n;
}

async function graphile(cmd, a, b) {
  const utils = await makeWorkerUtils({ connectionString: URL });
  await utils.migrate();
  const db = new pg.Pool({ connectionString: URL, max: 4 });
  // The payloads travel from the client, as an application's would.
  const addBatch = (k) =>
    db.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(
         (SELECT array_agg(ROW('noop', p, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec)
            FROM json_array_elements($1::json) AS p))`,
      [JSON.stringify(Array.from({ length: k }, () => ({})))]);
  const n = Number(a);
  try {
    if (cmd === 'w1') {
      const t = monoUs();
      for (let i = 0; i < n; i++) await utils.addJob('noop', {});
      const s = (monoUs() - t) / 1e6;
      emit({ workload: 'w1', tasks: n, seconds: s, tasks_per_s: n / s });
    } else if (cmd === 'w1-batch') {
      const t = monoUs();
      for (let done = 0; done < n; done += 1000) await addBatch(Math.min(1000, n - done));
      const s = (monoUs() - t) / 1e6;
      emit({ workload: 'w1-batch', tasks: n, seconds: s, tasks_per_s: n / s });
    } else if (cmd === 'w2') {
      for (let done = 0; done < n; done += 1000) await addBatch(Math.min(1000, n - done));
      const kids = startWorkers('graphile');
      try {
        const s = await waitDrained(() => graphileCount(db), n, 600);
        emit({ workload: 'w2', tasks: n, seconds: s, tasks_per_s: n / s, procs: PROCS,
               concurrency: GW_CONCURRENCY, results: false });
      } finally {
        stopWorkers(kids);
      }
    } else if (cmd === 'w3') {
      await w3(db, Number(a), Number(b), 'graphile', (enq) => utils.addJob('stamp', { enq }));
    } else {
      fail('usage: node pg_peers_bench.mjs graphile w1 N | w1-batch N | w2 N | w3 RATE SECONDS');
    }
  } finally {
    await utils.release();
    await db.end();
  }
}

// ---- pg-boss ------------------------------------------------------------------------------

async function bossWorker() {
  const db = new pg.Pool({ connectionString: URL, max: 2 });
  const boss = new PgBoss({ connectionString: URL, max: 4, supervise: false, schedule: false });
  boss.on('error', (e) => console.error(`pg-boss worker: ${e.message}`));
  await boss.start();
  await boss.work(QUEUE, { batchSize: BOSS_BATCH, pollingIntervalSeconds: 0.5 }, async (jobs) => {
    for (const job of jobs) {
      if (job.data && job.data.enq) await db.query('INSERT INTO bench_lat VALUES ($1)', [monoUs() - job.data.enq]);
    }
    return null;
  });
}

async function pgboss(cmd, a, b) {
  const boss = new PgBoss({ connectionString: URL, max: 4, supervise: false, schedule: false });
  boss.on('error', (e) => console.error(`pg-boss: ${e.message}`));
  await boss.start();
  await boss.createQueue(QUEUE);
  const db = new pg.Pool({ connectionString: URL, max: 4 });
  const insertBatch = (k) => boss.insert(Array.from({ length: k }, () => ({ name: QUEUE, data: {} })));
  const remaining = async () => {
    const r = await db.query(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state <> 'completed'", [QUEUE]);
    return r.rows[0].n;
  };
  const n = Number(a);
  try {
    if (cmd === 'w1') {
      const t = monoUs();
      for (let i = 0; i < n; i++) await boss.send(QUEUE, {});
      const s = (monoUs() - t) / 1e6;
      emit({ workload: 'w1', tasks: n, seconds: s, tasks_per_s: n / s });
    } else if (cmd === 'w1-batch') {
      const t = monoUs();
      for (let done = 0; done < n; done += 1000) await insertBatch(Math.min(1000, n - done));
      const s = (monoUs() - t) / 1e6;
      emit({ workload: 'w1-batch', tasks: n, seconds: s, tasks_per_s: n / s });
    } else if (cmd === 'w2') {
      for (let done = 0; done < n; done += 1000) await insertBatch(Math.min(1000, n - done));
      const kids = startWorkers('pgboss');
      try {
        const s = await waitDrained(remaining, n, 600);
        emit({ workload: 'w2', tasks: n, seconds: s, tasks_per_s: n / s, procs: PROCS, batch: BOSS_BATCH });
      } finally {
        stopWorkers(kids);
      }
    } else if (cmd === 'w3') {
      await w3(db, Number(a), Number(b), 'pgboss', (enq) => boss.send(QUEUE, { enq }));
    } else {
      fail('usage: node pg_peers_bench.mjs pgboss w1 N | w1-batch N | w2 N | w3 RATE SECONDS');
    }
  } finally {
    await boss.stop({ graceful: false, wait: false });
    await db.end();
  }
}

// ---- shared ------------------------------------------------------------------------------

function startWorkers(system) {
  const me = fileURLToPath(import.meta.url);
  return Array.from({ length: PROCS }, () =>
    spawn(process.execPath, [me, system, 'worker'], { stdio: ['ignore', 'ignore', 'inherit'], env: process.env }));
}

function stopWorkers(kids) {
  for (const k of kids) k.kill('SIGKILL');
}

// Seconds from the first completion until `left()` (unfinished jobs) reaches 0.
async function waitDrained(left, n, timeoutS) {
  const deadline = Date.now() + timeoutS * 1000;
  let first = null;
  for (;;) {
    const l = await left();
    const now = monoUs();
    if (l < n && first === null) first = now;
    if (l === 0) return (now - first) / 1e6;
    if (Date.now() > deadline) fail(`timeout after ${timeoutS} s: ${l} of ${n} left`);
    await sleep(2);
  }
}

async function w3(db, rate, seconds, system, add) {
  await db.query(LAT_TABLE);
  await db.query('TRUNCATE bench_lat');
  const kids = startWorkers(system);
  try {
    await add(monoUs());
    const ready = Date.now() + 60000;
    while ((await db.query('SELECT count(*)::int AS n FROM bench_lat')).rows[0].n < 1) {
      if (Date.now() > ready) fail('workers did not start');
      await sleep(10);
    }
    await sleep(500);
    await db.query('TRUNCATE bench_lat');
    const count = Math.floor(rate * seconds);
    const t0 = monoUs();
    for (let i = 0; i < count; i++) {
      const wait = (t0 + (i * 1e6) / rate - monoUs()) / 1000;
      if (wait > 0) await sleep(wait);
      await add(monoUs());
    }
    const deadline = Date.now() + 60000;
    for (;;) {
      const c = (await db.query('SELECT count(*)::int AS n FROM bench_lat')).rows[0].n;
      if (c >= count) break;
      if (Date.now() > deadline) fail(`timeout waiting for latency samples (${c} of ${count})`);
      await sleep(10);
    }
    const v = (await db.query('SELECT us FROM bench_lat ORDER BY us')).rows.map((r) => Number(r.us));
    const qt = (p) => v[Math.max(0, Math.min(v.length - 1, Math.ceil(p * v.length) - 1))] / 1000;
    emit({ workload: 'w3', tasks: count, rate, seconds, count: v.length, p50_ms: qt(0.5), p99_ms: qt(0.99),
           p999_ms: qt(0.999), max_ms: v[v.length - 1] / 1000 });
  } finally {
    stopWorkers(kids);
  }
}

async function main() {
  const [system, cmd, a, b] = process.argv.slice(2);
  if (!URL) fail('BENCH_PG_URL is not set');
  SYSTEM = system === 'pgboss' ? 'pg-boss' : 'graphile';
  if (system === 'graphile') {
    if (cmd === 'worker') return graphileWorker();
    await graphile(cmd, a, b);
  } else if (system === 'pgboss') {
    if (cmd === 'worker') return bossWorker();
    await pgboss(cmd, a, b);
  } else {
    fail('usage: node pg_peers_bench.mjs graphile|pgboss w1|w1-batch|w2|w3 ...');
  }
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
