// The dashboard's map: Leaflet for pan and zoom over a basemap of vector geometry served by fleetpipe
// (Natural Earth and US Census shapes from npm: countries at 1:50m and state lines at the fleet view,
// county lines and 1:10m countries once zoomed in; no tiles, nothing fetched from outside), and the fleet
// drawn on one canvas of its own: markers coloured by state, clusters at low zoom when the fleet is large,
// tracks of the selected vehicles (of all when few are shown), and vehicle labels only where they fit.
// A canvas rather than a Leaflet layer per vehicle: 5 000 vehicles draw in a few milliseconds.
/* global L, Supercluster, topojson */
import { LOW_FUEL_COLOR, STATE_COLORS, newest, placeLabels } from './fleet.js';
// Clusters replace single markers when more vehicles than this are shown, below CLUSTER_UNTIL_ZOOM.
export const CLUSTER_MIN = 200;
export const CLUSTER_UNTIL_ZOOM = 8;
// Tracks of every shown vehicle when at most this many are shown; otherwise of the selected ones only.
export const TRACKS_ALL_MAX = 20;
const LABEL_LIMIT = 400;
const LABEL_FONT = '600 11px system-ui, sans-serif';
const LABEL_H = 14;
const DETAIL_ZOOM = 6; // from here on the finer basemap
const INDEX_MAX_AGE_MS = 1000;

async function topo(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

// The basemap: coarse geometry first, the fine one loaded the first time the map is zoomed in.
function basemap(map) {
  const renderer = L.canvas({ pane: 'basemap', padding: 0.3 });
  const land = { renderer, interactive: false, style: { color: '#9aa3b2', weight: 0.8, fillColor: '#eef1e6', fillOpacity: 1 } };
  const lines = (color, weight) => ({ renderer, interactive: false, style: { color, weight, fill: false } });
  const coarse = L.layerGroup().addTo(map);
  const fine = L.layerGroup();
  let fineLoading = null;
  const load = async (group, countriesUrl, withCounties) => {
    const world = await topo(countriesUrl);
    L.geoJSON(topojson.feature(world, world.objects.countries), land).addTo(group);
    const us = await topo('/vendor/atlas/us/states-10m.json');
    if (withCounties) {
      const c = await topo('/vendor/atlas/us/counties-10m.json');
      L.geoJSON(topojson.mesh(c, c.objects.counties, (a, b) => a !== b), lines('#dde1e7', 0.5)).addTo(group);
    }
    L.geoJSON(topojson.mesh(us, us.objects.states, (a, b) => a !== b), lines('#b8c0cc', 0.8)).addTo(group);
  };
  const ready = load(coarse, '/vendor/atlas/world/countries-50m.json', false);
  const swap = () => {
    const detailed = map.getZoom() >= DETAIL_ZOOM;
    if (detailed && !fineLoading) {
      fineLoading = load(fine, '/vendor/atlas/world/countries-10m.json', true).catch((e) => console.error(e));
    }
    if (detailed && !map.hasLayer(fine)) {
      fineLoading.then(() => {
        if (map.getZoom() < DETAIL_ZOOM) return;
        fine.addTo(map);
        map.removeLayer(coarse);
      });
    } else if (!detailed && !map.hasLayer(coarse)) {
      coarse.addTo(map);
      map.removeLayer(fine);
    }
  };
  map.on('zoomend', swap);
  return ready;
}

// The fleet's canvas and label layer, kept at the map's top-left corner and redrawn after every move.
const FleetLayer = L.Layer.extend({
  initialize() {
    this._data = { vehicles: [], selected: new Set(), lowFuel: 15, now: Date.now(), stateOf: () => 'idle' };
    this._singles = [];
    this._clusters = [];
    this._labelPool = new Map();
  },
  onAdd(map) {
    this._canvas = L.DomUtil.create('canvas', 'fleet-canvas', map.getPane('overlayPane'));
    this._labels = L.DomUtil.create('div', 'fleet-labels', map.getPane('overlayPane'));
    map.on('moveend zoomend resize viewreset', this._reset, this);
    this._reset();
  },
  onRemove(map) {
    this._canvas.remove();
    this._labels.remove();
    map.off('moveend zoomend resize viewreset', this._reset, this);
  },
  setData(data) {
    this._data = data;
    if (this._map) this._redraw();
  },
  _reset() {
    const map = this._map;
    const size = map.getSize();
    const ratio = window.devicePixelRatio || 1;
    this._canvas.width = Math.round(size.x * ratio);
    this._canvas.height = Math.round(size.y * ratio);
    this._canvas.style.width = `${size.x}px`;
    this._canvas.style.height = `${size.y}px`;
    const origin = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(this._canvas, origin);
    L.DomUtil.setPosition(this._labels, origin);
    this._redraw();
  },

  _redraw() {
    const map = this._map;
    const { vehicles, selected, lowFuel, now, stateOf } = this._data;
    const size = map.getSize();
    const zoom = map.getZoom();
    const ctx = this._canvas.getContext('2d');
    const ratio = this._canvas.width / Math.max(1, size.x);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.x, size.y);
    const at = (p) => map.latLngToContainerPoint([p.lat, p.lon]);
    const heads = vehicles.filter((v) => v.track.length).map((v) => {
      const p = newest(v);
      return { v, p, state: stateOf(p, now), low: p.fuel < lowFuel, sel: selected.has(v.id) };
    });

    // Clusters of the unselected vehicles when the fleet is large and the map far out.
    let singles = heads;
    let clusters = [];
    if (heads.length > CLUSTER_MIN && zoom < CLUSTER_UNTIL_ZOOM && typeof Supercluster !== 'undefined') {
      const loose = heads.filter((h) => !h.sel);
      const index = this._clusterIndex(loose, now);
      const b = map.getBounds().pad(0.1);
      const features = index.getClusters([Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()),
        Math.min(180, b.getEast()), Math.min(85, b.getNorth())], Math.floor(zoom));
      const current = new Map(loose.map((h) => [h.v.id, h]));
      singles = heads.filter((h) => h.sel);
      for (const f of features) {
        if (!f.properties.cluster) {
          const h = current.get(f.properties.id);
          if (h) singles.push(h);
        } else {
          const [lon, lat] = f.geometry.coordinates;
          clusters.push({ id: f.properties.cluster_id, lat, lon, count: f.properties.point_count, props: f.properties, index });
        }
      }
    }

    // Tracks under the markers, broken between trips.
    const withTracks = heads.length <= TRACKS_ALL_MAX ? heads : heads.filter((h) => h.sel);
    ctx.lineJoin = 'round';
    for (const h of withTracks) {
      ctx.beginPath();
      let trip = null;
      for (const p of h.v.track) {
        const xy = at(p);
        if (p.trip !== trip) ctx.moveTo(xy.x, xy.y);
        else ctx.lineTo(xy.x, xy.y);
        trip = p.trip;
      }
      ctx.strokeStyle = h.v.color;
      ctx.globalAlpha = h.sel ? 0.9 : 0.6;
      ctx.lineWidth = h.sel ? 3 : 2;
      ctx.stroke();
    }
    ctx.globalAlpha = 1;

    // Clusters: a pie of the states inside, a red ring when any is low on fuel, the count in the middle.
    this._clusters = [];
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const c of clusters) {
      const xy = at(c);
      // At most half the clustering radius, so neighbouring clusters do not cover each other.
      const r = Math.min(26, 9 + 2.5 * Math.log2(c.count));
      let a = -Math.PI / 2;
      for (const s of ['moving', 'idle', 'stale']) {
        const share = (c.props[s] ?? 0) / c.count;
        if (!share) continue;
        ctx.beginPath();
        ctx.moveTo(xy.x, xy.y);
        ctx.arc(xy.x, xy.y, r, a, a + share * 2 * Math.PI);
        ctx.closePath();
        ctx.fillStyle = STATE_COLORS[s];
        ctx.fill();
        a += share * 2 * Math.PI;
      }
      ctx.beginPath();
      ctx.arc(xy.x, xy.y, r, 0, 2 * Math.PI);
      ctx.lineWidth = c.props.low ? 3 : 1.5;
      ctx.strokeStyle = c.props.low ? LOW_FUEL_COLOR : '#fff';
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(xy.x, xy.y, r * 0.55, 0, 2 * Math.PI);
      ctx.fillStyle = 'rgba(29, 36, 51, 0.85)';
      ctx.fill();
      ctx.fillStyle = '#fff';
      ctx.fillText(c.count >= 1000 ? `${(c.count / 1000).toFixed(1)}k` : String(c.count), xy.x, xy.y);
      this._clusters.push({ x: xy.x, y: xy.y, r, c });
    }

    // Single markers, the selected ones last (on top).
    singles.sort((a, b) => (a.sel - b.sel) || (b.v.id - a.v.id));
    const r0 = zoom >= CLUSTER_UNTIL_ZOOM ? 6 : heads.length > CLUSTER_MIN ? 4 : 5.5;
    this._singles = [];
    for (const h of singles) {
      const xy = at(h.p);
      if (xy.x < -20 || xy.y < -20 || xy.x > size.x + 20 || xy.y > size.y + 20) continue;
      const r = h.sel ? r0 + 3 : r0;
      ctx.beginPath();
      ctx.arc(xy.x, xy.y, r, 0, 2 * Math.PI);
      ctx.fillStyle = STATE_COLORS[h.state];
      ctx.fill();
      // The ring: red for low fuel, else the vehicle's own colour once there is room to see it.
      ctx.lineWidth = h.low ? 2.5 : h.sel || zoom >= 7 ? 2 : 1;
      ctx.strokeStyle = h.low ? LOW_FUEL_COLOR : h.sel || zoom >= 7 ? h.v.color : '#1d2433';
      ctx.stroke();
      if (h.sel) {
        ctx.beginPath();
        ctx.arc(xy.x, xy.y, r + 2.5, 0, 2 * Math.PI);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = '#1d2433';
        ctx.stroke();
      }
      this._singles.push({ x: xy.x, y: xy.y, r, h });
    }
    this._placeLabels(size);
  },

  // The cluster index of these vehicles: loading ten thousand points costs more than the rest of a draw, so
  // an index is kept for up to INDEX_MAX_AGE_MS while the same vehicles are clustered (clusters a second old;
  // single markers are drawn where their vehicles are now).
  _clusterIndex(loose, now) {
    // Which vehicles, whatever their order (the table's sort orders them, and some sorts change every draw).
    let sum = 0;
    let squares = 0;
    for (const h of loose) {
      sum += h.v.id;
      squares = (squares + (h.v.id % 65521) * (h.v.id % 65519)) % 2147483647;
    }
    const key = `${loose.length}:${sum}:${squares}`;
    const kept = this._index;
    if (kept && kept.key === key && now - kept.at < INDEX_MAX_AGE_MS && now >= kept.at) return kept.index;
    // extent 256: Leaflet's tiles are 256 px, so the radius is in screen pixels (Supercluster assumes 512).
    const index = new Supercluster({
      radius: 56, extent: 256, maxZoom: CLUSTER_UNTIL_ZOOM - 1,
      map: (props) => ({ ...props.counts }),
      reduce: (acc, props) => { for (const k of Object.keys(props)) acc[k] = (acc[k] ?? 0) + props[k]; },
    });
    index.load(loose.map((h) => ({
      type: 'Feature', geometry: { type: 'Point', coordinates: [h.p.lon, h.p.lat] },
      properties: { id: h.v.id, counts: { moving: 0, idle: 0, stale: 0, [h.state]: 1, low: h.low ? 1 : 0 } },
    })));
    this._index = { key, at: now, index };
    return index;
  },

  // Labels where they fit: the selected vehicles first, then those with alerts, then by id.
  _placeLabels(size) {
    const ctx = this._canvas.getContext('2d');
    ctx.font = LABEL_FONT;
    const order = [...this._singles].sort((a, b) => (b.h.sel - a.h.sel) || (b.h.low - a.h.low) || (a.h.v.id - b.h.v.id));
    const boxes = order.map((s) => ({
      x: Math.round(s.x + s.r + 3), y: Math.round(s.y - LABEL_H / 2),
      w: Math.ceil(ctx.measureText(String(s.h.v.id)).width) + 6, h: LABEL_H,
    }));
    // Markers are obstacles too: a label never covers another vehicle's marker.
    const obstacles = this._singles.map((s) => ({ x: s.x - s.r, y: s.y - s.r, w: 2 * s.r, h: 2 * s.r }))
      .concat(this._clusters.map((c) => ({ x: c.x - c.r, y: c.y - c.r, w: 2 * c.r, h: 2 * c.r })));
    // The selected vehicles' labels first, over other markers if need be; then the rest where nothing is.
    const nSel = order.findIndex((s) => !s.h.sel);
    const selCount = nSel < 0 ? order.length : nSel;
    const first = placeLabels(boxes.slice(0, selCount), size.x, size.y);
    const rest = placeLabels(boxes.slice(selCount), size.x, size.y, {
      limit: LABEL_LIMIT, fixed: obstacles.concat(first.map((i) => boxes[i])),
    }).map((i) => i + selCount);
    const kept = first.concat(rest);
    const used = new Set();
    for (const i of kept) {
      const id = order[i].h.v.id;
      let el = this._labelPool.get(id);
      if (!el) {
        el = L.DomUtil.create('span', 'vehicle-label');
        el.dataset.vehicle = id;
        el.textContent = String(id);
        this._labelPool.set(id, el);
      }
      const b = boxes[i];
      el.style.transform = `translate(${b.x}px, ${b.y}px)`;
      el.style.width = `${b.w}px`;
      el.classList.toggle('selected', order[i].h.sel);
      el.classList.toggle('low-fuel', order[i].h.low);
      if (el.parentNode !== this._labels) this._labels.append(el);
      used.add(id);
    }
    // Unused labels leave the document; the pool keeps them while it is no larger than the label limit.
    for (const [id, el] of this._labelPool) {
      if (used.has(id)) continue;
      el.remove();
      if (this._labelPool.size > LABEL_LIMIT) this._labelPool.delete(id);
    }
  },

  // The single marker under a container point (within its radius plus a few pixels), else the cluster.
  hit(point) {
    let best = null;
    let bestD = Infinity;
    for (const s of this._singles) {
      const d = Math.hypot(s.x - point.x, s.y - point.y);
      if (d <= s.r + 5 && d < bestD) { best = { vehicle: s.h }; bestD = d; }
    }
    if (best) return best;
    for (const c of this._clusters) {
      if (Math.hypot(c.x - point.x, c.y - point.y) <= c.r) return { cluster: c.c };
    }
    return null;
  },
});

// The map in `el`; onSelect(id, additive) when a vehicle is clicked (additive with Shift, Ctrl or Cmd).
export function createMap(el, { onSelect, describe }) {
  const map = L.map(el, {
    zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, attributionControl: false,
    minZoom: 2, maxZoom: 13, worldCopyJump: false, zoomSnap: 1, preferCanvas: true,
  }).setView([39.5, -98.5], 4);
  map.createPane('basemap').style.zIndex = 200;
  let basemapDrawn = false;
  basemap(map).then(() => { basemapDrawn = true; }, (e) => console.error(e));
  const fleet = new FleetLayer();
  fleet.addTo(map);
  const tip = L.DomUtil.create('div', 'fleet-tip', el);
  tip.hidden = true;

  map.on('click', (e) => {
    const hit = fleet.hit(e.containerPoint);
    if (hit?.vehicle) {
      const o = e.originalEvent;
      onSelect(hit.vehicle.v.id, Boolean(o && (o.shiftKey || o.ctrlKey || o.metaKey)));
    } else if (hit?.cluster) {
      const c = hit.cluster;
      map.setView([c.lat, c.lon], Math.min(c.index.getClusterExpansionZoom(c.id), map.getMaxZoom()));
    }
  });
  let hoverFrame = 0;
  map.on('mousemove', (e) => {
    if (hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      const hit = fleet.hit(e.containerPoint);
      el.style.cursor = hit ? 'pointer' : '';
      if (!hit) { tip.hidden = true; return; }
      tip.textContent = hit.vehicle ? describe(hit.vehicle.v) : `${hit.cluster.count} vehicles: click to zoom in`;
      tip.style.transform = `translate(${Math.round(e.containerPoint.x + 12)}px, ${Math.round(e.containerPoint.y + 12)}px)`;
      tip.hidden = false;
    });
  });
  map.on('mouseout', () => { tip.hidden = true; });

  const legend = L.control({ position: 'bottomleft' });
  legend.onAdd = () => {
    const div = L.DomUtil.create('div', 'map-legend');
    for (const [s, color] of Object.entries(STATE_COLORS)) {
      const item = L.DomUtil.create('span', 'legend-item', div);
      const dot = L.DomUtil.create('i', 'dot', item);
      dot.style.background = color;
      item.append(s);
    }
    const low = L.DomUtil.create('span', 'legend-item', div);
    L.DomUtil.create('i', 'dot ring', low).style.borderColor = LOW_FUEL_COLOR;
    low.append('low fuel');
    return div;
  };
  legend.addTo(map);

  let fitted = false;
  let userMoved = false;
  map.on('dragstart zoomstart', () => { if (fitted) userMoved = true; });
  return {
    map,
    draw(data) {
      fleet.setData(data);
      // The first time there is a fleet (and until the user pans or zooms), frame it.
      const heads = data.vehicles.filter((v) => v.track.length);
      if (!userMoved && heads.length && !fitted) {
        fitted = true;
        const bounds = L.latLngBounds(heads.map((v) => [newest(v).lat, newest(v).lon]));
        map.fitBounds(bounds.pad(0.05), { maxZoom: 10 });
      }
    },
    focus(vehicles) {
      const pts = vehicles.filter((v) => v.track.length).flatMap((v) => v.track.map((p) => [p.lat, p.lon]));
      if (!pts.length) return;
      userMoved = true;
      map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 11 });
    },
    // For tests and benchmarks: a view set as a user's pan and zoom would (the fit to the fleet is then left
    // alone), and what the canvas holds with the rendered label boxes.
    setView(lat, lon, zoom) {
      userMoved = true;
      map.setView([lat, lon], zoom);
    },
    stats() {
      return {
        basemap: basemapDrawn, zoom: map.getZoom(), markers: fleet._singles.length, clusters: fleet._clusters.length,
        clustered: fleet._clusters.reduce((n, c) => n + c.c.count, 0),
        clusterPoints: fleet._clusters.map((c) => ({ x: c.x, y: c.y, count: c.c.count })),
        labels: [...el.querySelectorAll('.vehicle-label')].map((l) => {
          const r = l.getBoundingClientRect();
          return { id: Number(l.dataset.vehicle), x: r.x, y: r.y, w: r.width, h: r.height };
        }),
      };
    },
  };
}
