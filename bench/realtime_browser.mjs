// Commit -> event in a real browser: opens the realtime dashboard in PAGES tabs of Debian's headless
// Chromium (playwright-core), waits until each tab has drawn its first snapshot, prints "ready", then after SECONDS reads the
// delays the page itself recorded (window.__realtime.latencies: arrival in the page's event handler −
// the Postgres commit time that Debezium put in the change) and prints one JSON line with their
// percentiles, the page's own CPU-bound work (draws) included; and commit -> drawn (the end of the draw that
// first showed a change: window.__realtime.drawnLatencies), the share of the page's main thread that was busy
// (Chrome's TaskDuration over the wall time) and the page's JS heap (largest sample).
// Usage: node bench/realtime_browser.mjs BASE_URL SECONDS [PAGES]   (bench/realtime.sh runs it)
import { launchChromium } from '../tests/browser/support.mjs';

const [base, secondsArg, pagesArg] = process.argv.slice(2);
if (!base || !secondsArg) {
  console.error('usage: node bench/realtime_browser.mjs BASE_URL SECONDS [PAGES]');
  process.exit(2);
}
const seconds = Number(secondsArg);
const pageCount = Number(pagesArg || 1);

const browser = await launchChromium();
try {
  const pages = [];
  for (let i = 0; i < pageCount; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/`);
    // Steady state: the snapshot drawn (at thousands of vehicles it takes seconds), then a few more draws.
    await page.waitForFunction(() => window.__realtime.drawnAt > window.__realtime.snapshotAt
      && window.__realtime.snapshotAt > 0, null, { timeout: 120000, polling: 200 });
    await page.waitForTimeout(5000);
    pages.push(page);
  }
  // Only what arrives from here on counts: the load starts after "ready".
  await Promise.all(pages.map((p) => p.evaluate(() => {
    window.__realtime.latencies = [];
    window.__realtime.drawnLatencies = [];
  })));
  const cdps = await Promise.all(pages.map(async (p) => {
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Performance.enable');
    return cdp;
  }));
  const metrics = async (cdp) => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const taskStart = await Promise.all(cdps.map(async (c) => (await metrics(c)).TaskDuration));
  let heapMax = 0;
  const started = Date.now();
  console.log('ready');
  // Collected every few seconds, because the page keeps only its latest 100 000 delays.
  const all = [];
  const drawnAll = [];
  const collect = async () => {
    for (const p of pages) {
      // A loop, not push(...xs): tens of thousands of arguments overflow the stack.
      for (const x of await p.evaluate(() => window.__realtime.latencies.splice(0))) all.push(x);
      for (const x of await p.evaluate(() => window.__realtime.drawnLatencies.splice(0))) drawnAll.push(x);
    }
    for (const c of cdps) heapMax = Math.max(heapMax, (await metrics(c)).JSHeapUsedSize);
  };
  while (Date.now() - started < seconds * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(5000, seconds * 1000 - (Date.now() - started))));
    await collect();
  }
  let events = 0;
  let draws = 0;
  let drawMsTotal = 0;
  let drawMsMax = 0;
  for (const p of pages) {
    const s = await p.evaluate(() => {
      const r = window.__realtime;
      return { events: r.events, draws: r.draws, drawMsTotal: r.drawMsTotal, drawMsMax: r.drawMsMax };
    });
    events += s.events;
    draws += s.draws;
    drawMsTotal += s.drawMsTotal;
    drawMsMax = Math.max(drawMsMax, s.drawMsMax);
  }
  const wall = (Date.now() - started) / 1000;
  const taskEnd = await Promise.all(cdps.map(async (c) => (await metrics(c)).TaskDuration));
  const busy = taskEnd.map((t, i) => (t - taskStart[i]) / wall);
  all.sort((a, b) => a - b);
  drawnAll.sort((a, b) => a - b);
  const pct = (q, xs = all) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] : null);
  console.log(JSON.stringify({
    pages: pageCount, seconds: (Date.now() - started) / 1000, samples: all.length, events,
    p50_ms: pct(0.5), p90_ms: pct(0.9), p99_ms: pct(0.99), max_ms: all.length ? all[all.length - 1] : null,
    draws, draw_ms_mean: draws ? Math.round(drawMsTotal / draws) : null, draw_ms_max: Math.round(drawMsMax),
    drawn_p50_ms: pct(0.5, drawnAll), drawn_p99_ms: pct(0.99, drawnAll),
    main_thread_busy: Math.round(100 * Math.max(...busy)) / 100, js_heap_max_mb: Math.round(heapMax / 1048576),
  }));
} finally {
  await browser.close();
}
