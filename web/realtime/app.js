// The live fleet dashboard: state arrives over Server-Sent Events (/events), is kept here per vehicle, and
// is drawn by the map (map.js: Leaflet and a canvas), the charts (charts.js: Plotly.js) and the table
// (table.js), all served by fleetpipe itself so the page needs no network beyond it. The logic that needs
// no page (wire columns, states, KPIs, sorting, windows, label placement) is in tracks.js and fleet.js,
// tested under node. What is selected, filtered, searched and sorted lives in the URL after '#'.
import { TRACK_LIMIT, pointAt, rows } from './tracks.js';
import {
  chartWindow, formatView, isLowFuel, kpis, matches, newest, parseView, pushPoint, searchIds, sortVehicles, stateOf,
  tripStart,
} from './fleet.js';
import { createMap } from './map.js';
import { createTable, utc } from './table.js';
import { drawDistance, drawFuel } from './charts.js';

let lowFuel = 15; // percent; the server sends its threshold with every snapshot
const vehicles = new Map(); // id -> {id, color, track: [{t, lat, lon, fuel, gal, dist, speed, trip, seq}]}
let view = parseView(location.hash);
let lastDrawEnd = 0; // performance.now() when the last draw finished
let lastDrawMs = 0; // how long it took
const recent = []; // [arrival ms, commit -> page ms] of the last 10 s, for the header
const arrivals = []; // [second, changes] of the last 10 s
let undrawn = []; // commit times of the changes that arrived since the last draw began
// Measurements for tests and benchmarks: how many changes arrived, the last one, commit -> page delays, and
// how many draws there were and how long they took (in all, and per step in stepMs); what the map, charts and
// header show.
// `seqs(id)` lists the measurement sequence numbers of a vehicle's track as the page holds it.
window.__realtime = {
  events: 0, lastEvent: null, latencies: [], drawnLatencies: [], draws: 0, drawMsTotal: 0, drawMsMax: 0, stepMs: {}, kpis: null, charts: {},
  snapshotAt: -1, drawnAt: -1, // performance.now() of the last snapshot's arrival and of the last draw's end
  seqs: (id) => (vehicles.get(id)?.track ?? []).map((p) => p.seq),
  map: () => mapView?.stats(),
  setView: (lat, lon, zoom) => mapView?.setView(lat, lon, zoom),
  view: () => ({ ...view }),
};

const $ = (id) => document.getElementById(id);
function setVehicle(v) {
  vehicles.set(v.id, { id: v.id, color: v.color || 'gray', track: rows(v.track).slice(-TRACK_LIMIT) });
}

function counted(kind, data, sourceTs) {
  const stats = window.__realtime;
  const now = Date.now();
  stats.events += 1;
  stats.lastEvent = { kind, data, at: now };
  const second = Math.floor(now / 1000);
  if (arrivals.length && arrivals[arrivals.length - 1][0] === second) arrivals[arrivals.length - 1][1] += 1;
  else arrivals.push([second, 1]);
  if (sourceTs > 0) {
    stats.latencies.push(now - sourceTs);
    if (stats.latencies.length > 100000) stats.latencies.splice(0, 50000);
    recent.push([now, now - sourceTs]);
    undrawn.push(sourceTs);
  }
}

function onSnapshot(data) {
  if (typeof data.low_fuel_percent === 'number') lowFuel = data.low_fuel_percent;
  vehicles.clear();
  for (const v of data.vehicles || []) setVehicle(v);
  window.__realtime.lastEvent = { kind: 'snapshot', data, at: Date.now() };
  window.__realtime.snapshotAt = performance.now();
  scheduleDraw();
}

// One tick's changes, applied in the order that gives what replaying each change would: removals, whole
// vehicles, then appended points.
function onChanges(data) {
  for (const r of data.removed || []) {
    vehicles.delete(r.id);
    counted('remove', r, r.source_ts_ms);
  }
  for (const v of data.vehicles || []) {
    setVehicle(v);
    counted('vehicle', v, v.source_ts_ms);
  }
  const pts = data.points;
  const n = pts && pts.vehicle ? pts.vehicle.length : 0;
  const colors = data.colors || {};
  for (let i = 0; i < n; i++) {
    const id = pts.vehicle[i];
    let v = vehicles.get(id);
    if (!v) {
      v = { id, color: colors[id] || 'gray', track: [] };
      vehicles.set(id, v);
    } else if (colors[id]) {
      v.color = colors[id];
    }
    const p = pointAt(pts, i);
    pushPoint(v, p, TRACK_LIMIT);
    const age = pts.source_age_ms[i];
    counted('point', { vehicle: id, point: p }, typeof age === 'number' ? data.sent_ms - age : 0);
  }
  scheduleDraw();
}

// A draw (header and table, map, two charts) costs the main thread milliseconds to tens of milliseconds,
// and events wait behind it. Draws are therefore spaced so they take at most about a third of the main
// thread, and come at most four times a second. A draw's cost is measured from its first step up to the
// frame after its last, so it includes the style, layout and paint that follow the script.
const MIN_DRAW_GAP_MS = 250;
const CHARTS_EVERY_MS = 1000;
const CHART_STEPS = ['fuel', 'distance'];
let chartsAt = -Infinity; // Date.now() of the last draw that drew the charts
let chartsForced = true; // the view changed: the next draw draws the charts whatever their age
let chartsPending = false; // the last draw left the charts out: a later one must draw them
let drawScheduled = false;
let dirty = false; // something changed since the last draw began
function scheduleDraw() {
  dirty = true;
  if (drawScheduled) return;
  drawScheduled = true;
  const gap = Math.max(MIN_DRAW_GAP_MS, 2 * lastDrawMs);
  const wait = Math.max(0, lastDrawEnd + gap - performance.now());
  let inDraw = [];
  // Commit -> drawn: the changes this draw began with are on screen from the frame after the steps that show
  // them (header and table, map). The charts that may follow are fleet aggregates renewed once a second.
  const stampDrawn = () => {
    const drawnAt = Date.now();
    const drawn = window.__realtime.drawnLatencies;
    for (const ts of inDraw) drawn.push(drawnAt - ts);
    if (drawn.length > 100000) drawn.splice(0, 50000);
    inDraw = [];
  };
  const finished = (start) => {
    lastDrawEnd = performance.now();
    lastDrawMs = lastDrawEnd - start;
    const stats = window.__realtime;
    stats.draws += 1;
    stats.drawMsTotal += lastDrawMs;
    stats.drawMsMax = Math.max(stats.drawMsMax, lastDrawMs);
    stats.drawnAt = lastDrawEnd;
    drawScheduled = false;
    if (dirty || chartsPending) scheduleDraw();
  };
  setTimeout(() => requestAnimationFrame(() => {
    const start = performance.now();
    dirty = false;
    inDraw = undrawn;
    undrawn = [];
    const steps = drawSteps();
    const lastShowing = steps.findLastIndex(([name]) => !CHART_STEPS.includes(name));
    const run = (i) => {
      const [name, step] = steps[i];
      const t0 = performance.now();
      try {
        step();
      } finally { // a step that throws is reported on the console, and the page goes on drawing
        const ms = window.__realtime.stepMs;
        ms[name] = (ms[name] || 0) + performance.now() - t0;
        // framed: called from the frame after this step, which then ends a draw whose last step this is.
        const next = (framed) => {
          if (i + 1 < steps.length) setTimeout(() => run(i + 1), 0);
          else if (framed) finished(start);
          else requestAnimationFrame(() => finished(start));
        };
        if (i === lastShowing) {
          requestAnimationFrame(() => {
            stampDrawn();
            next(true);
          });
        } else {
          next(false);
        }
      }
    };
    run(0);
  }), wait);
}

// ---- what is shown --------------------------------------------------------------------------------------

function selectedList() {
  return view.selected.map((id) => vehicles.get(id)).filter(Boolean);
}

// The vehicles the filter and the search let through, sorted as the table is.
// The order is kept up to ORDER_MAX_AGE_MS while the view and the number of vehicles stay the same: sorting
// ten thousand vehicles at every draw costs more than the rest of the table, and an order (or a state
// filter's verdict) a second old is still a true picture. The vehicles themselves are looked up afresh.
const ORDER_MAX_AGE_MS = 1000;
let order = null; // {key, at, ids}
function shown(now) {
  const key = `${view.q}|${view.filter}|${view.sort}|${view.dir}|${vehicles.size}|${lowFuel}`;
  if (order && order.key === key && now - order.at < ORDER_MAX_AGE_MS && now >= order.at) {
    const list = [];
    for (const id of order.ids) {
      const v = vehicles.get(id);
      if (v && v.track.length) list.push(v);
    }
    return list;
  }
  const found = searchIds(view.q);
  const list = [];
  for (const v of vehicles.values()) if (found(v.id) && matches(v, view.filter, now, lowFuel)) list.push(v);
  const sorted = sortVehicles(list, view.sort, view.dir, { now, lowFuel });
  order = { key, at: now, ids: sorted.map((v) => v.id) };
  return sorted;
}

function setView(change) {
  view = { ...view, ...change };
  chartsForced = true;
  const hash = formatView(view);
  if (hash !== location.hash && !(hash === '' && location.hash === '')) {
    history.replaceState(null, '', hash || `${location.pathname}${location.search}`);
  }
  draw();
}

function select(id, additive) {
  const has = view.selected.includes(id);
  let next;
  if (additive) next = has ? view.selected.filter((x) => x !== id) : [...view.selected, id];
  else next = has && view.selected.length === 1 ? [] : [id];
  setView({ selected: next });
}

function describe(v) {
  if (!v.track.length) return `Vehicle ${v.id}`;
  const p = newest(v);
  return `Vehicle ${v.id} · ${stateOf(p, Date.now())} · fuel ${p.fuel.toFixed(1)} % · ${p.speed.toFixed(1)} mph · ${utc(p.t)}`;
}

// ---- drawing --------------------------------------------------------------------------------------------

function percentile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

let latencyAt = -Infinity; // Date.now() of the last delivery percentiles shown
function drawHeader(now) {
  const k = kpis(vehicles.values(), now, lowFuel);
  window.__realtime.kpis = k;
  for (const [key, id] of [['vehicles', 'kpi-vehicles'], ['reporting', 'kpi-reporting'], ['moving', 'kpi-moving'],
    ['idle', 'kpi-idle'], ['low-fuel', 'kpi-low-fuel'], ['stale', 'kpi-stale']]) {
    const text = String(k[key]);
    if ($(id).textContent !== text) $(id).textContent = text;
  }
  for (const b of document.querySelectorAll('.kpi[data-filter]')) {
    b.setAttribute('aria-pressed', String(b.dataset.filter === view.filter));
  }
  const since = now - 10_000;
  // One splice per draw: shifting 10 s of changes off one at a time (50 000 at 5 000/s) is quadratic.
  let old = 0;
  while (old < recent.length && recent[old][0] < since) old += 1;
  if (old) recent.splice(0, old);
  while (arrivals.length && arrivals[0][0] < Math.floor(since / 1000)) arrivals.shift();
  const span = arrivals.length ? Math.max(1, Math.floor(now / 1000) - arrivals[0][0] + 1) : 1;
  $('kpi-rate').textContent = String(Math.round(arrivals.reduce((s, a) => s + a[1], 0) / span));
  // The delivery percentiles once a second: a sort of 50 000 delays at 5 000 changes/s.
  if (now - latencyAt >= 1000 || now < latencyAt) {
    latencyAt = now;
    const lat = Float64Array.from(recent, (r) => r[1]).sort();
    $('kpi-latency').textContent = lat.length ? `${percentile(lat, 0.5)} / ${percentile(lat, 0.99)} ms` : '–';
  }
}

function drawDetails(now) {
  const list = selectedList();
  $('clear-selection').hidden = !view.selected.length;
  const cards = list.slice(0, 4).map((v) => {
    const card = document.createElement('div');
    card.className = 'card';
    card.dataset.vehicle = v.id;
    const title = document.createElement('h2');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = v.color;
    title.append(sw, `Vehicle ${v.id}`);
    card.append(title);
    if (v.track.length) {
      const p = newest(v);
      const start = tripStart(v);
      const trip = v.track.filter((q) => q.trip === p.trip && q.t >= start);
      const facts = [
        ['state', `${stateOf(p, now)}${isLowFuel(p, lowFuel) ? ', LOW FUEL' : ''}`],
        ['trip', `${p.trip} since ${utc(start)} (${trip.length} points here)`],
        ['distance in trip', `${(p.dist - trip[0].dist).toFixed(2)} mi`],
        ['fuel', `${p.fuel.toFixed(1)} % (${trip[0].fuel.toFixed(1)} % at the trip's first point here), ${p.gal.toFixed(2)} gal`],
        ['speed', `${p.speed.toFixed(1)} mph`],
        ['last measurement', utc(p.t)],
      ];
      const dl = document.createElement('dl');
      for (const [k, val] of facts) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = val;
        dl.append(dt, dd);
      }
      card.append(dl);
    }
    return card;
  });
  if (list.length > 4) {
    const more = document.createElement('p');
    more.className = 'muted';
    more.textContent = `and ${list.length - 4} more selected`;
    cards.push(more);
  }
  $('details').replaceChildren(...cards);
}

function drawSteps() {
  const now = Date.now();
  const list = shown(now);
  const selected = new Set(view.selected);
  const sel = selectedList();
  // The map shows what the filter and search let through, and the selected vehicles whatever they are.
  const onMap = list.concat(sel.filter((v) => !list.includes(v)));
  // The charts' window follows what they draw: the selected vehicles when there are any.
  const win = chartWindow(sel.length ? sel : list, now, view.window, sel);
  // The charts at most once a second (at once after a change of view): fleet aggregates over minutes to hours
  // change little between draws, and each chart is a Plotly render.
  const charts = chartsForced || now - chartsAt >= CHARTS_EVERY_MS;
  chartsPending = !charts;
  if (charts) {
    chartsAt = now;
    chartsForced = false;
  }
  const steps = [['header', () => {
    drawHeader(now);
    const total = [...vehicles.values()].filter((v) => v.track.length).length;
    $('table-count').textContent = list.length === total ? `${total} vehicles` : `${list.length} of ${total} vehicles`;
    table.draw(list, { now, lowFuel, stateOf, selected, sort: view.sort, dir: view.dir, has: (id) => vehicles.has(id) });
    for (const b of document.querySelectorAll('[data-window]')) {
      b.setAttribute('aria-pressed', String(b.dataset.window === view.window));
    }
    $('window-range').textContent = win ? `${utc(win.start).slice(5, 16)} – ${utc(win.end).slice(5, 16)} UTC` : '';
    drawDetails(now);
  }]];
  if (typeof L !== 'undefined') steps.push(['map', () => mapView.draw({ vehicles: onMap, selected, lowFuel, now, stateOf })]);
  if (typeof Plotly !== 'undefined' && charts) {
    steps.push(['fuel', () => {
      window.__realtime.charts.fuel = drawFuel('fuel-chart', list, sel, win, lowFuel);
      bindChartClicks('fuel-chart');
    }]);
    steps.push(['distance', () => {
      window.__realtime.charts.distance = drawDistance('distance-chart', list, sel, win);
      bindChartClicks('distance-chart');
    }]);
  }
  return steps;
}

function draw() {
  for (const [, step] of drawSteps()) step();
}

// ---- wiring ---------------------------------------------------------------------------------------------

const table = createTable($('table-scroll'), {
  onSort: (field) => setView(view.sort === field ? { dir: view.dir === 'asc' ? 'desc' : 'asc' } : { sort: field, dir: 'asc' }),
  onSelect: (id, additive) => {
    select(id, additive);
    if (view.selected.includes(id)) mapView?.focus(selectedList());
  },
});
const mapView = typeof L !== 'undefined' ? createMap($('map'), { onSelect: select, describe }) : null;

for (const b of document.querySelectorAll('.kpi[data-filter]')) {
  b.addEventListener('click', () => setView({ filter: view.filter === b.dataset.filter ? 'all' : b.dataset.filter }));
}
for (const b of document.querySelectorAll('[data-window]')) {
  b.addEventListener('click', () => setView({ window: b.dataset.window }));
}
$('search').value = view.q;
$('search').addEventListener('input', (e) => setView({ q: e.target.value.trim().slice(0, 100) }));
$('state-filter').value = view.filter;
$('state-filter').addEventListener('change', (e) => setView({ filter: e.target.value }));
$('clear-selection').addEventListener('click', () => setView({ selected: [] }));
// A click on a chart's line selects its vehicle too (the lines carry their vehicle's id; the fleet
// aggregates carry none). Plotly's own event, bound once the chart exists.
function bindChartClicks(id) {
  const el = $(id);
  if (el.dataset.clicks || typeof el.on !== 'function') return;
  el.dataset.clicks = '1';
  el.on('plotly_click', (ev) => {
    const vehicle = ev.points?.[0]?.customdata;
    const o = ev.event;
    if (typeof vehicle === 'number') select(vehicle, Boolean(o && (o.shiftKey || o.ctrlKey || o.metaKey)));
  });
}
window.addEventListener('hashchange', () => {
  view = parseView(location.hash);
  $('search').value = view.q;
  $('state-filter').value = view.filter;
  mapView?.focus(selectedList());
  draw();
});

let focusedFromUrl = false;
function connect() {
  const es = new EventSource('/events');
  es.onopen = () => { $('status').textContent = 'live'; $('status').className = 'status online'; };
  // EventSource reconnects by itself; the server sends a fresh snapshot on every connection.
  es.onerror = () => { $('status').textContent = 'reconnecting…'; $('status').className = 'status offline'; };
  es.addEventListener('snapshot', (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    onSnapshot(data);
    // A shared URL's selection is framed on the map once its vehicles are known.
    if (!focusedFromUrl && view.selected.length && selectedList().length) {
      focusedFromUrl = true;
      mapView?.focus(selectedList());
    }
  });
  // The server batches changes per tick (~50 ms): one event carries them all.
  es.addEventListener('changes', (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    onChanges(data);
  });
}

connect();
