// BullMQ driver: `node bullmq_bench.mjs w1|w1-batch|w2|w3 ...`, one JSON line on stdout.
//
// Tuning: two worker processes (one per core), each a Worker with concurrency 50; jobs are
// kept after completion (removeOnComplete false: results kept, like runq's default). w2
// counts completions in the queue's completed set. `worker` is the child-process mode.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const PORT = Number(process.env.BENCH_REDIS_PORT);
const connection = { host: '127.0.0.1', port: PORT };
const PROCS = 2;
const CONCURRENCY = Number(process.env.BULLMQ_CONCURRENCY || 50);
const QUEUE = 'bench';
const monoUs = () => Number(process.hrtime.bigint() / 1000n);  // CLOCK_MONOTONIC
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const emit = (o) => console.log(JSON.stringify({ system: 'bullmq', ...o }));

function fail(msg) {
  console.error(`bullmq_bench: ${msg}`);
  process.exit(1);
}

async function runWorker() {
  const lat = new IORedis(connection);
  const w = new Worker(QUEUE, async (job) => {
    if (job.name === 'stamp') await lat.rpush('bench:lat', monoUs() - job.data.enq);
    return null;
  }, { connection, concurrency: CONCURRENCY });
  await w.waitUntilReady();
}

function startWorkers() {
  const me = fileURLToPath(import.meta.url);
  return Array.from({ length: PROCS }, () =>
    spawn(process.execPath, [me, 'worker'], { stdio: ['ignore', 'ignore', 'inherit'], env: process.env }));
}

function stopWorkers(kids) {
  for (const k of kids) k.kill('SIGKILL');
}

async function enqueueBatches(q, n, batch = 1000) {
  for (let done = 0; done < n; done += batch) {
    const k = Math.min(batch, n - done);
    await q.addBulk(Array.from({ length: k }, () => ({ name: 'noop', data: {} })));
  }
}

async function waitCompleted(redis, n, timeoutS) {
  const key = `bull:${QUEUE}:completed`;
  const deadline = Date.now() + timeoutS * 1000;
  let first = null;
  for (;;) {
    const done = await redis.zcard(key);
    const now = monoUs();
    if (done > 0 && first === null) first = now;
    if (done >= n) return (now - first) / 1e6;
    if (Date.now() > deadline) fail(`timeout after ${timeoutS} s: ${done} of ${n} completed`);
    await sleep(1);
  }
}

async function main() {
  const [cmd, a, b] = process.argv.slice(2);
  if (cmd === 'worker') return runWorker();
  const q = new Queue(QUEUE, { connection, defaultJobOptions: { removeOnComplete: false } });
  const redis = new IORedis(connection);
  const n = Number(a);
  if (cmd === 'w1') {
    const t = monoUs();
    for (let i = 0; i < n; i++) await q.add('noop', {});
    const s = (monoUs() - t) / 1e6;
    emit({ workload: 'w1', tasks: n, seconds: s, tasks_per_s: n / s });
  } else if (cmd === 'w1-batch') {
    const t = monoUs();
    await enqueueBatches(q, n);
    const s = (monoUs() - t) / 1e6;
    emit({ workload: 'w1-batch', tasks: n, seconds: s, tasks_per_s: n / s });
  } else if (cmd === 'w2') {
    await enqueueBatches(q, n);
    const kids = startWorkers();
    try {
      const s = await waitCompleted(redis, n, 600);
      emit({ workload: 'w2', tasks: n, seconds: s, tasks_per_s: n / s, procs: PROCS, concurrency: CONCURRENCY });
    } finally {
      stopWorkers(kids);
    }
  } else if (cmd === 'w3') {
    const rate = Number(a), seconds = Number(b);
    await redis.del('bench:lat');
    const kids = startWorkers();
    try {
      await q.add('noop', {});
      await waitCompleted(redis, 1, 60);
      await sleep(500);
      const count = Math.floor(rate * seconds);
      const t0 = monoUs();
      for (let i = 0; i < count; i++) {
        const wait = (t0 + (i * 1e6) / rate - monoUs()) / 1000;
        if (wait > 0) await sleep(wait);  // setTimeout granularity is ~1 ms
        await q.add('stamp', { enq: monoUs() });
      }
      const deadline = Date.now() + 60000;
      while ((await redis.llen('bench:lat')) < count) {
        if (Date.now() > deadline) fail('timeout waiting for latency samples');
        await sleep(10);
      }
      const v = (await redis.lrange('bench:lat', 0, -1)).map(Number).sort((x, y) => x - y);
      const qt = (p) => v[Math.max(0, Math.min(v.length - 1, Math.ceil(p * v.length) - 1))] / 1000;
      emit({ workload: 'w3', tasks: count, rate, seconds, count: v.length, p50_ms: qt(0.5), p99_ms: qt(0.99),
             p999_ms: qt(0.999), max_ms: v[v.length - 1] / 1000 });
    } finally {
      stopWorkers(kids);
    }
  } else {
    fail('usage: node bullmq_bench.mjs w1 N | w1-batch N | w2 N | w3 RATE SECONDS');
  }
  await q.close();
  redis.disconnect();
  process.exit(0);
}

main().catch((e) => fail(e.stack || String(e)));
