// The live dashboard's own cost, without the stack: serves web/realtime/ and its npm libraries as
// `fleetpipe realtime` does, feeds /events with a synthetic fleet in the service's wire form (a snapshot of
// VEHICLES vehicles with HISTORY points each, then RATE points a second in ticks of 100 ms, as the service's
// flush thread sends them), opens the page in Debian's headless Chromium and after SECONDS prints one JSON
// line: commit -> drawn p50/p99 (the commit time being the tick's send time minus a fixed 20 ms), draws and
// their mean cost, each draw step's share (window.__realtime.stepMs), the main thread's busy share and the
// JS heap. With PROFILE=1 it also prints the functions that took most of the main thread (V8's sampling
// profiler, self time). bench/realtime.sh measures the same page behind the whole pipeline.
// Usage: [VEHICLES=5000] [RATE=5000] [HISTORY=200] [SECONDS=60] [THROTTLE=1] [PROFILE=1] node bench/realtime_page.mjs
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tests/browser/support.mjs';

const env = (name, dflt) => Number(process.env[name] || dflt);
const VEHICLES = env('VEHICLES', 5000);
const RATE = env('RATE', 5000);
const HISTORY = env('HISTORY', 200);
const SECONDS = env('SECONDS', 60);
const TICK_MS = 100;
const COMMIT_AGE_MS = 20;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modules = path.join(root, 'node_modules');
// The same mounts as src/realtime/http_side.cpp.
const mounts = [
  ['/vendor/plotly/', path.join(modules, 'plotly.js-dist-min')],
  ['/vendor/leaflet/', path.join(modules, 'leaflet', 'dist')],
  ['/vendor/supercluster/', path.join(modules, 'supercluster', 'dist')],
  ['/vendor/topojson-client/', path.join(modules, 'topojson-client', 'dist')],
  ['/vendor/atlas/world/', path.join(modules, 'world-atlas')],
  ['/vendor/atlas/us/', path.join(modules, 'us-atlas')],
  ['/', path.join(root, 'web', 'realtime')],
];
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json' };

// A fleet spread over the contiguous US, each vehicle driving its own heading; every point is one second
// after the vehicle's previous one.
const COLORS = ['red', 'blue', 'green', 'orange', 'purple', 'black', 'white', 'silver'];
const fleet = [];
for (let i = 0; i < VEHICLES; i++) {
  fleet.push({
    id: 900000 + i, color: COLORS[i % COLORS.length], lat: 30 + 18 * Math.random(), lon: -120 + 45 * Math.random(),
    dLat: (Math.random() - 0.5) * 2e-4, dLon: (Math.random() - 0.5) * 2e-4, fuel: 20 + 80 * Math.random(), dist: 0,
    seq: 0, t: Date.now() - HISTORY * 1000,
  });
}
const COLUMNS = ['t', 'lat', 'lon', 'fuel', 'gal', 'dist', 'speed', 'trip', 'seq'];
function step(v, t) {
  v.lat += v.dLat; v.lon += v.dLon; v.fuel = Math.max(3, v.fuel - 0.01); v.dist += 0.015; v.seq += 1; v.t = t;
  return { t, lat: +v.lat.toFixed(6), lon: +v.lon.toFixed(6), fuel: +v.fuel.toFixed(3), gal: +(v.fuel * 0.15).toFixed(3),
    dist: +v.dist.toFixed(3), speed: 54, trip: 1, seq: v.seq };
}
function columns(points) {
  const cols = Object.fromEntries(COLUMNS.map((c) => [c, []]));
  for (const p of points) for (const c of COLUMNS) cols[c].push(p[c]);
  return cols;
}
function snapshot() {
  const vehicles = fleet.map((v) => {
    const pts = [];
    for (let k = HISTORY; k > 0; k--) pts.push(step(v, Date.now() - k * 1000));
    return { id: v.id, color: v.color, track: columns(pts) };
  });
  return JSON.stringify({ low_fuel_percent: 15, vehicles });
}

const viewers = new Set();
let next = 0;
let carry = 0;
const ticker = setInterval(() => {
  if (!viewers.size) return;
  carry += RATE * TICK_MS / 1000;
  const n = Math.floor(carry);
  carry -= n;
  const now = Date.now();
  const pts = [];
  const ids = [];
  for (let k = 0; k < n; k++) {
    const v = fleet[next++ % fleet.length];
    pts.push(step(v, Math.max(now, v.t + 1)));
    ids.push(v.id);
  }
  const cols = columns(pts);
  cols.vehicle = ids;
  cols.source_age_ms = ids.map(() => COMMIT_AGE_MS);
  cols.record_age_ms = cols.source_age_ms;
  const frame = `event: changes\ndata: ${JSON.stringify({ sent_ms: now, removed: [], vehicles: [], points: cols, colors: {} })}\n\n`;
  for (const res of viewers) res.write(frame);
}, TICK_MS);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`event: snapshot\ndata: ${snapshot()}\n\n`);
    viewers.add(res);
    req.on('close', () => viewers.delete(res));
    return;
  }
  const [prefix, dir] = mounts.find(([p]) => url.pathname.startsWith(p));
  const rel = url.pathname.slice(prefix.length) || 'index.html';
  const file = path.resolve(dir, rel);
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/`);
  // Steady state: the snapshot drawn, then a few seconds for the draws that follow it.
  await page.waitForFunction(() => window.__realtime.drawnAt > window.__realtime.snapshotAt
    && window.__realtime.snapshotAt > 0, null, { timeout: 120000, polling: 200 });
  await page.waitForTimeout(5000);
  await page.evaluate(() => {
    const r = window.__realtime;
    Object.assign(r, { drawnLatencies: [], latencies: [], draws: 0, drawMsTotal: 0, drawMsMax: 0, stepMs: {} });
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  // THROTTLE=N: Chromium's CPU throttling, for a page that shares the machine with the whole stack.
  if (env('THROTTLE', 1) > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: env('THROTTLE', 1) });
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  if (process.env.PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
    await cdp.send('Profiler.start');
  }
  const started = Date.now();
  const taskStart = (await metrics()).TaskDuration;
  let heapMax = 0;
  const drawn = [];
  while (Date.now() - started < SECONDS * 1000) {
    await page.waitForTimeout(5000);
    for (const x of await page.evaluate(() => window.__realtime.drawnLatencies.splice(0))) drawn.push(x);
    heapMax = Math.max(heapMax, (await metrics()).JSHeapUsedSize);
  }
  const wall = (Date.now() - started) / 1000;
  const busy = ((await metrics()).TaskDuration - taskStart) / wall;
  const s = await page.evaluate(() => {
    const r = window.__realtime;
    return { draws: r.draws, drawMsTotal: r.drawMsTotal, drawMsMax: r.drawMsMax, stepMs: r.stepMs };
  });
  drawn.sort((a, b) => a - b);
  const pct = (q) => (drawn.length ? drawn[Math.min(drawn.length - 1, Math.floor(q * drawn.length))] : null);
  console.log(JSON.stringify({
    vehicles: VEHICLES, rate: RATE, seconds: wall, drawn_samples: drawn.length, drawn_p50_ms: pct(0.5),
    drawn_p99_ms: pct(0.99), draws: s.draws, draw_ms_mean: s.draws ? Math.round(s.drawMsTotal / s.draws) : null,
    draw_ms_max: Math.round(s.drawMsMax),
    step_ms_mean: Object.fromEntries(Object.entries(s.stepMs).map(([k, v]) => [k, Math.round(v / Math.max(1, s.draws))])),
    main_thread_busy: Math.round(100 * busy) / 100, js_heap_max_mb: Math.round(heapMax / 1048576),
  }));
  if (process.env.PROFILE) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const dt = new Map(profile.nodes.map((n) => [n.id, 0]));
    for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], dt.get(profile.samples[i]) + (profile.timeDeltas[i] || 0));
    for (const n of profile.nodes) {
      const f = n.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) || 0) + dt.get(n.id) / 1000);
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
    for (const [k, ms] of top) console.log(`${(ms / wall / 10).toFixed(1).padStart(5)} %  ${k}`);
  }
} finally {
  await browser.close();
  clearInterval(ticker);
  for (const res of viewers) res.end();
  server.close();
}
