// The live fleet dashboard: state arrives over Server-Sent Events (/events) and is drawn with Plotly.js,
// served by fleetpipe itself together with the basemap geometry, so the page needs no network beyond it.
'use strict';

const TRACK_LIMIT = 200;
let lowFuel = 15; // percent; the server sends its threshold with every snapshot
const vehicles = new Map(); // id -> {id, color, track: [{t, lat, lon, fuel, gal, dist, speed, trip, seq}]}
let selected = 'all';
let drawPending = false;
// Measurements for tests and benchmarks: how many changes arrived, the last one, and commit -> page delays.
window.__realtime = { events: 0, lastEvent: null, latencies: [] };

const $ = (id) => document.getElementById(id);
const COLUMNS = ['t', 'lat', 'lon', 'fuel', 'gal', 'dist', 'speed', 'trip', 'seq'];

// The server sends tracks as columns (one array per field); the page keeps one object per point.
function pointAt(cols, i) {
  const p = {};
  for (const c of COLUMNS) p[c] = cols[c][i];
  return p;
}

function rows(cols) {
  const n = cols && cols.t ? cols.t.length : 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = pointAt(cols, i);
  return out;
}

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

function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
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

function drawTable(list) {
  const rows = list.filter((v) => v.track.length).map((v) => {
    const p = v.track[v.track.length - 1];
    const tr = document.createElement('tr');
    tr.dataset.vehicle = v.id;
    if (p.fuel < lowFuel) tr.className = 'low-fuel';
    const cells = [String(v.id), String(p.trip), String(p.seq), utc(p.t), fmt(p.lat, 5), fmt(p.lon, 5),
      fmt(p.speed, 1), fmt(p.fuel, 1), fmt(p.gal, 2), fmt(p.dist, 2), p.fuel < lowFuel ? 'LOW FUEL' : ''];
    cells.forEach((text, i) => {
      const td = document.createElement('td');
      if (i === 0) {
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = v.color;
        td.append(sw);
      }
      if (i === 10 && text) td.className = 'alert';
      td.dataset.field = ['vehicle', 'trip', 'seq', 'time', 'lat', 'lon', 'speed', 'fuel', 'gal', 'dist', 'alert'][i];
      td.append(text);
      tr.append(td);
    });
    return tr;
  });
  document.querySelector('#vehicles tbody').replaceChildren(...rows);
}

const plotConfig = { responsive: true, displaylogo: false, topojsonURL: '/vendor/topojson/' };

function draw() {
  updateSelector();
  const list = shown();
  const alerts = list.filter((v) => v.track.length && v.track[v.track.length - 1].fuel < lowFuel).length;
  $('summary').textContent = `${vehicles.size} vehicles · ${alerts} low-fuel alerts · ${window.__realtime.events} events`;
  drawTable(list);
  if (typeof Plotly === 'undefined') return;
  const tracks = list.map((v) => ({
    type: 'scattergeo', mode: 'lines', name: `Vehicle ${v.id}`, showlegend: false, hoverinfo: 'skip',
    lat: v.track.map((p) => p.lat), lon: v.track.map((p) => p.lon),
    line: { color: v.color, width: 2 }, opacity: 0.6,
  }));
  const heads = list.filter((v) => v.track.length).map((v) => {
    const p = v.track[v.track.length - 1];
    return {
      type: 'scattergeo', mode: 'markers+text', name: `Vehicle ${v.id}`, lat: [p.lat], lon: [p.lon],
      text: [String(v.id)], textposition: 'top center',
      marker: { size: 11, color: v.color, line: { color: p.fuel < lowFuel ? '#b71c1c' : '#1d2433', width: p.fuel < lowFuel ? 3 : 1 } },
      hovertemplate: `Vehicle ${v.id}<br>%{lat:.4f}, %{lon:.4f}<br>fuel ${fmt(p.fuel, 1)} %<br>${fmt(p.speed, 1)} mph<extra></extra>`,
    };
  });
  Plotly.react('map', [...tracks, ...heads], {
    margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, uirevision: 'map',
    geo: {
      scope: 'north-america', resolution: 50, fitbounds: 'locations', showland: true, landcolor: '#eef1e6',
      showcountries: true, countrycolor: '#9aa3b2', showsubunits: true, subunitcolor: '#c4cad4', showlakes: true,
      lakecolor: '#dcebf7', showocean: true, oceancolor: '#dcebf7',
    },
  }, plotConfig);
  const series = (field, title, ytitle) => Plotly.react(field === 'fuel' ? 'fuel-chart' : 'distance-chart',
    list.map((v) => ({
      type: 'scatter', mode: 'lines', name: `Vehicle ${v.id}`, line: { color: v.color },
      x: v.track.map((p) => new Date(p.t)), y: v.track.map((p) => p[field]),
    })),
    { title: { text: title, font: { size: 13 } }, margin: { l: 45, r: 10, t: 30, b: 30 }, uirevision: field,
      yaxis: { title: { text: ytitle } }, showlegend: false,
      shapes: field === 'fuel' ? [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: lowFuel, y1: lowFuel, line: { color: '#b71c1c', dash: 'dot', width: 1 } }] : [] },
    plotConfig);
  series('fuel', 'Fuel level', '%');
  series('dist', 'Distance traveled', 'miles');
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
