// The live fleet dashboard: state arrives over Server-Sent Events (/events) and is drawn with Plotly.js,
// served by fleetpipe itself together with the basemap geometry, so the page needs no network beyond it.
// The track logic that needs no page (wire columns, thinning, grouping) is in tracks.js, tested under node.
import { TRACK_LIMIT, pointAt, rows, strideFor, byColor } from './tracks.js';

let lowFuel = 15; // percent; the server sends its threshold with every snapshot
const vehicles = new Map(); // id -> {id, color, track: [{t, lat, lon, fuel, gal, dist, speed, trip, seq}]}
let selected = 'all';
let lastDrawEnd = 0; // performance.now() when the last draw finished
let lastDrawMs = 0; // how long it took
// Measurements for tests and benchmarks: how many changes arrived, the last one, commit -> page delays, and
// how many draws there were and how long they took.
// `seqs(id)` lists the measurement sequence numbers of a vehicle's track as the page holds it.
window.__realtime = {
  events: 0, lastEvent: null, latencies: [], draws: 0, drawMsTotal: 0, drawMsMax: 0,
  seqs: (id) => (vehicles.get(id)?.track ?? []).map((p) => p.seq),
};

const $ = (id) => document.getElementById(id);
function setVehicle(v) {
  vehicles.set(v.id, { id: v.id, color: v.color || 'gray', track: rows(v.track).slice(-TRACK_LIMIT) });
}

function counted(kind, data, sourceTs) {
  const stats = window.__realtime;
  stats.events += 1;
  stats.lastEvent = { kind, data, at: Date.now() };
  if (sourceTs > 0) {
    stats.latencies.push(Date.now() - sourceTs);
    if (stats.latencies.length > 100000) stats.latencies.splice(0, 50000);
  }
}

function onSnapshot(data) {
  if (typeof data.low_fuel_percent === 'number') lowFuel = data.low_fuel_percent;
  vehicles.clear();
  for (const v of data.vehicles || []) setVehicle(v);
  counted('snapshot', data, 0);
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
    v.track.push(p);
    if (v.track.length > TRACK_LIMIT) v.track.shift();
    const age = pts.source_age_ms[i];
    counted('point', { vehicle: id, point: p }, typeof age === 'number' ? data.sent_ms - age : 0);
  }
  scheduleDraw();
}

// A draw (map, two charts, table) costs the main thread tens to hundreds of milliseconds, and events wait
// behind it. Draws are therefore spaced so they take at most about a third of the main thread, and come at
// most four times a second: at 2 000 points/s, drawing on every animation frame kept the page so busy that
// events reached it seconds late. A draw's cost is measured from its first step up to the frame after its
// last, so it includes the style, layout and paint that follow the script.
const MIN_DRAW_GAP_MS = 250;
let drawScheduled = false;
let dirty = false; // something changed since the last draw began
function scheduleDraw() {
  dirty = true;
  if (drawScheduled) return;
  drawScheduled = true;
  const gap = Math.max(MIN_DRAW_GAP_MS, 2 * lastDrawMs);
  const wait = Math.max(0, lastDrawEnd + gap - performance.now());
  const finished = (start) => {
    lastDrawEnd = performance.now();
    lastDrawMs = lastDrawEnd - start;
    const stats = window.__realtime;
    stats.draws += 1;
    stats.drawMsTotal += lastDrawMs;
    stats.drawMsMax = Math.max(stats.drawMsMax, lastDrawMs);
    drawScheduled = false;
    if (dirty) scheduleDraw();
  };
  setTimeout(() => requestAnimationFrame(() => {
    const start = performance.now();
    dirty = false;
    const steps = drawSteps();
    const run = (i) => {
      try {
        steps[i]();
      } finally { // a step that throws is reported on the console, and the page goes on drawing
        if (i + 1 < steps.length) setTimeout(() => run(i + 1), 0);
        else requestAnimationFrame(() => finished(start));
      }
    };
    run(0);
  }), wait);
}

function shown() {
  const list = [...vehicles.values()].sort((a, b) => a.id - b.id);
  return selected === 'all' ? list : list.filter((v) => String(v.id) === selected);
}

function fmt(x, digits) { return typeof x === 'number' ? x.toFixed(digits) : ''; }
function utc(ms) { return new Date(ms).toISOString().replace('T', ' ').slice(0, 19); }

function updateSelector() {
  const sel = $('vehicle-select');
  const want = ['all', ...[...vehicles.keys()].sort((a, b) => a - b).map(String)];
  const have = [...sel.options].map((o) => o.value);
  if (want.join() === have.join()) return;
  sel.replaceChildren(...want.map((v) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v === 'all' ? 'All vehicles' : `Vehicle ${v}`;
    return o;
  }));
  sel.value = want.includes(selected) ? selected : 'all';
  selected = sel.value;
}

const FIELDS = ['vehicle', 'trip', 'seq', 'time', 'lat', 'lon', 'speed', 'fuel', 'gal', 'dist', 'alert'];
const tableRows = new Map(); // vehicle id -> its <tr>, kept between draws

function tableRow(v) {
  let tr = tableRows.get(v.id);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.vehicle = v.id;
    for (const f of FIELDS) {
      const td = document.createElement('td');
      td.dataset.field = f;
      if (f === 'vehicle') {
        const sw = document.createElement('span');
        sw.className = 'swatch';
        td.append(sw, document.createTextNode(''));
      }
      tr.append(td);
    }
    tableRows.set(v.id, tr);
  }
  return tr;
}

// Rows are kept and only their changed cells rewritten: rebuilding hundreds of rows on every draw cost more
// than the table shows.
function drawTable(list) {
  const rows = list.filter((v) => v.track.length).map((v) => {
    const p = v.track[v.track.length - 1];
    const low = p.fuel < lowFuel;
    const tr = tableRow(v);
    if (tr.className !== (low ? 'low-fuel' : '')) tr.className = low ? 'low-fuel' : '';
    const texts = [String(v.id), String(p.trip), String(p.seq), utc(p.t), fmt(p.lat, 5), fmt(p.lon, 5),
      fmt(p.speed, 1), fmt(p.fuel, 1), fmt(p.gal, 2), fmt(p.dist, 2), low ? 'LOW FUEL' : ''];
    const cells = tr.children;
    if (tr.dataset.color !== v.color) {
      cells[0].firstChild.style.background = v.color;
      tr.dataset.color = v.color;
    }
    const idText = cells[0].lastChild;
    if (idText.data !== texts[0]) idText.data = texts[0];
    for (let i = 1; i < texts.length; i++) {
      if (cells[i].textContent !== texts[i]) cells[i].textContent = texts[i];
    }
    if (cells[10].className !== (low ? 'alert' : '')) cells[10].className = low ? 'alert' : '';
    return tr;
  });
  for (const id of tableRows.keys()) if (!vehicles.has(id)) tableRows.delete(id);
  const body = document.querySelector('#vehicles tbody');
  const same = body.children.length === rows.length && rows.every((tr, i) => body.children[i] === tr);
  if (!same) body.replaceChildren(...rows);
}

const plotConfig = { responsive: true, displaylogo: false, topojsonURL: '/vendor/topojson/' };

// A draw in four steps (summary and table, map, fuel chart, distance chart), each one a task of its own,
// so the events that arrive meanwhile are handled between them rather than after all four.
function drawSteps() {
  updateSelector();
  const list = shown();
  const stride = strideFor(list);
  const steps = [() => {
    const alerts = list.filter((v) => v.track.length && v.track[v.track.length - 1].fuel < lowFuel).length;
    $('summary').textContent = `${vehicles.size} vehicles · ${alerts} low-fuel alerts · ${window.__realtime.events} events`;
    drawTable(list);
  }];
  if (typeof Plotly === 'undefined') return steps;
  steps.push(() => drawMap(list, stride));
  steps.push(() => drawSeries(list, stride, 'fuel', 'Fuel level', '%', '%'));
  steps.push(() => drawSeries(list, stride, 'dist', 'Distance traveled', 'miles', 'mi'));
  return steps;
}

function draw() {
  for (const step of drawSteps()) step();
}

function drawMap(list, stride) {
  // One line trace per colour and one marker trace for every vehicle's head (a trace per vehicle made the
  // map's script 1.7 × slower for 50 vehicles).
  const tracks = byColor(list, (p) => p.lon, (p) => p.lat, stride).map((g) => ({
    type: 'scattergeo', mode: 'lines', showlegend: false, hoverinfo: 'skip',
    lon: g.xs, lat: g.ys, line: { color: g.color, width: 2 }, opacity: 0.6, connectgaps: false,
  }));
  const withPoints = list.filter((v) => v.track.length);
  const last = (v) => v.track[v.track.length - 1];
  const low = (v) => last(v).fuel < lowFuel;
  const heads = {
    type: 'scattergeo', mode: 'markers+text', name: 'vehicles', textposition: 'top center',
    lat: withPoints.map((v) => last(v).lat), lon: withPoints.map((v) => last(v).lon),
    text: withPoints.map((v) => String(v.id)),
    customdata: withPoints.map((v) => [v.id, fmt(last(v).fuel, 1), fmt(last(v).speed, 1)]),
    marker: {
      size: 11, color: withPoints.map((v) => v.color),
      line: { color: withPoints.map((v) => (low(v) ? '#b71c1c' : '#1d2433')), width: withPoints.map((v) => (low(v) ? 3 : 1)) },
    },
    hovertemplate: 'Vehicle %{customdata[0]}<br>%{lat:.4f}, %{lon:.4f}<br>fuel %{customdata[1]} %<br>%{customdata[2]} mph<extra></extra>',
  };
  // Every update redraws the basemap too; at Natural Earth's 1:50m scale that took ~250 ms of the main
  // thread per draw for north-america (with 1:110m, ~70 ms), and events waited behind it.
  Plotly.react('map', [...tracks, heads], {
    margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: 'map',
    geo: {
      scope: 'north-america', resolution: 110, fitbounds: 'locations', showland: true, landcolor: '#eef1e6',
      showcountries: true, countrycolor: '#9aa3b2', showsubunits: true, subunitcolor: '#c4cad4', showlakes: true,
      lakecolor: '#dcebf7', showocean: true, oceancolor: '#dcebf7',
    },
  }, plotConfig);
}

function drawSeries(list, stride, field, title, ytitle, unit) {
  Plotly.react(field === 'fuel' ? 'fuel-chart' : 'distance-chart',
    byColor(list, (p) => p.t, (p) => p[field], stride).map((g) => ({
      type: 'scatter', mode: 'lines', line: { color: g.color }, x: g.xs, y: g.ys, customdata: g.ids,
      connectgaps: false, hovertemplate: `Vehicle %{customdata}<br>%{x}<br>%{y:.1f} ${unit}<extra></extra>`,
    })),
    { title: { text: title, font: { size: 13 } }, margin: { l: 45, r: 10, t: 30, b: 30 }, uirevision: field,
      xaxis: { type: 'date' }, yaxis: { title: { text: ytitle } }, showlegend: false,
      shapes: field === 'fuel' ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: lowFuel, y1: lowFuel, line: { color: '#b71c1c', dash: 'dot', width: 1 } }] : [] },
    plotConfig);
}

function connect() {
  const es = new EventSource('/events');
  es.onopen = () => { $('status').textContent = 'live'; $('status').className = 'status online'; };
  // EventSource reconnects by itself; the server sends a fresh snapshot on every connection.
  es.onerror = () => { $('status').textContent = 'reconnecting…'; $('status').className = 'status offline'; };
  es.addEventListener('snapshot', (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    onSnapshot(data);
  });
  // The server batches changes per tick (~50 ms): one event carries them all.
  es.addEventListener('changes', (e) => {
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    onChanges(data);
  });
}

$('vehicle-select').addEventListener('change', (e) => { selected = e.target.value; draw(); });
connect();
