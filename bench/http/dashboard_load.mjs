// The dashboard's first load in headless chromium on loopback: bytes transferred and the time
// to the load event and to the overview showing data. Usage:
//   node bench/http/dashboard_load.mjs URL [RUNS]     (PLAYWRIGHT_CORE, CHROMIUM as the tests)
const [url, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const {chromium} = await import(process.env.PLAYWRIGHT_CORE ||
                                new URL('../compare/node_modules/playwright-core/index.mjs', import.meta.url).href);
const browser = await chromium.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                                       args: ['--no-sandbox']});
const results = [];
for (let i = 0; i < runs; ++i) {
  const ctx = await browser.newContext();  // a cold cache each time
  const page = await ctx.newPage();
  let bytes = 0;
  let files = 0;
  page.on('response', async (r) => {
    if (!r.url().includes('/api/')) {
      const b = await r.body().catch(() => Buffer.alloc(0));
      bytes += b.length;
      files += 1;
    }
  });
  const t0 = Date.now();
  await page.goto(url, {waitUntil: 'load'});
  const load = Date.now() - t0;
  await page.locator('#queues').waitFor();
  const data = Date.now() - t0;
  results.push({load, data, bytes, files});
  await ctx.close();
}
await browser.close();
const med = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(`first load: ${results[0].files} files, ${results[0].bytes} bytes; median of ${runs}: ` +
            `load event ${med('load')} ms, overview with data ${med('data')} ms`);
