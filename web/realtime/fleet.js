// The dashboard's fleet logic that needs no page: each vehicle's state, the header's KPIs, the table's
// filter, search and sort, the charts' time window and fleet aggregates, and where map labels fit. An ES
// module, imported by app.js and by tests/web/ under node.

// A vehicle is stale when its newest measurement is older than this (by the wall clock), reporting when it
// is at most REPORTING_MS old, moving from MOVING_MPH. Low fuel is an alert beside the state, with the
// threshold the server sends.
export const STALE_MS = 5 * 60_000;
export const REPORTING_MS = 60_000;
export const MOVING_MPH = 2;

// The states' colours on the map, the table and the KPIs (realtime.css repeats them), and the alert's.
export const STATE_COLORS = { moving: '#2e7d32', idle: '#f9a825', stale: '#8d96a3' };
export const LOW_FUEL_COLOR = '#c62828';

// The filters a KPI or the table's state menu applies; 'all' shows every vehicle.
export const FILTERS = ['all', 'reporting', 'moving', 'idle', 'low-fuel', 'stale'];

export function newest(v) {
  return v.track[v.track.length - 1];
}

export function stateOf(p, now) {
  if (now - p.t > STALE_MS) return 'stale';
  return p.speed >= MOVING_MPH ? 'moving' : 'idle';
}

export function isLowFuel(p, lowFuel) {
  return p.fuel < lowFuel;
}

export function isReporting(p, now) {
  return now - p.t <= REPORTING_MS;
}

export function matches(v, filter, now, lowFuel) {
  if (!v.track.length) return false;
  const p = newest(v);
  switch (filter) {
    case 'reporting': return isReporting(p, now);
    case 'low-fuel': return isLowFuel(p, lowFuel);
    case 'moving': case 'idle': case 'stale': return stateOf(p, now) === filter;
    default: return true;
  }
}

// The header's counts over every vehicle with a point (the filter does not change them).
export function kpis(vehicles, now, lowFuel) {
  const k = { vehicles: 0, reporting: 0, moving: 0, idle: 0, 'low-fuel': 0, stale: 0 };
  for (const v of vehicles) {
    if (!v.track.length) continue;
    const p = newest(v);
    k.vehicles += 1;
    k[stateOf(p, now)] += 1;
    if (isReporting(p, now)) k.reporting += 1;
    if (isLowFuel(p, lowFuel)) k['low-fuel'] += 1;
  }
  return k;
}

// A vehicle id search: every id containing the typed digits; several ids may be separated by commas or
// spaces. An empty query finds everything.
export function searchIds(query) {
  const terms = String(query ?? '').split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
  return (id) => !terms.length || terms.some((t) => String(id).includes(t));
}

// The table's columns: the value each sorts by. 'alert' sorts alerts (low fuel) first, then stale vehicles.
const STATE_RANK = { moving: 0, idle: 1, stale: 2 };
export const SORT_KEYS = {
  vehicle: (v) => v.id,
  state: (v, ctx) => STATE_RANK[stateOf(newest(v), ctx.now)],
  trip: (v) => newest(v).trip,
  seq: (v) => newest(v).seq,
  time: (v) => newest(v).t,
  lat: (v) => newest(v).lat,
  lon: (v) => newest(v).lon,
  speed: (v) => newest(v).speed,
  fuel: (v) => newest(v).fuel,
  gal: (v) => newest(v).gal,
  dist: (v) => newest(v).dist,
  alert: (v, ctx) => (isLowFuel(newest(v), ctx.lowFuel) ? 0 : 2) + (stateOf(newest(v), ctx.now) === 'stale' ? 0 : 1),
};

// Sorted copy of `list` by `key` ('asc' or 'desc'), ties by vehicle id ascending, so the order is stable
// from one draw to the next.
export function sortVehicles(list, key, dir, ctx) {
  const f = SORT_KEYS[key] ?? SORT_KEYS.alert;
  const sign = dir === 'desc' ? -1 : 1;
  const keyed = list.map((v) => [f(v, ctx), v]);
  keyed.sort((a, b) => (a[0] < b[0] ? -sign : a[0] > b[0] ? sign : a[1].id - b[1].id));
  return keyed.map((e) => e[1]);
}

// The charts' time window, relative to the newest data rather than to the oldest: the end is the newest
// point no later than `now` plus a skew (rows dated in the future, as a web form allows, do not pull it
// forward), or the newest point of all when every point is in the future. 'trip' spans the current trips of
// the selected vehicles (of the shown ones without a selection).
export const WINDOWS = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, trip: null };
export const FUTURE_SKEW_MS = 5 * 60_000;

export function windowEnd(list, now) {
  let end = -Infinity;
  let any = -Infinity;
  for (const v of list) {
    const n = v.track.length;
    if (!n) continue;
    any = Math.max(any, v.track[n - 1].t);
    for (let i = n - 1; i >= 0; i--) {
      if (v.track[i].t <= now + FUTURE_SKEW_MS) {
        end = Math.max(end, v.track[i].t);
        break;
      }
    }
  }
  return end > -Infinity ? end : any;
}

export function tripStart(v) {
  const n = v.track.length;
  if (!n) return Infinity;
  const trip = v.track[n - 1].trip;
  let i = n - 1;
  while (i > 0 && v.track[i - 1].trip === trip) i -= 1;
  return v.track[i].t;
}

export function chartWindow(list, now, key, selectedList = []) {
  const end = windowEnd(list, now);
  if (!Number.isFinite(end)) return null;
  const span = WINDOWS[key];
  if (span != null) return { start: end - span, end };
  const trips = (selectedList.length ? selectedList : list).map(tripStart).filter(Number.isFinite);
  const start = trips.length ? Math.min(...trips) : end - WINDOWS['1h'];
  return { start: Math.min(start, end), end };
}

// The fuel levels of the vehicles as a histogram of `bins` equal bins over 0–100 %.
export function fuelHistogram(list, bins = 10) {
  const counts = new Array(bins).fill(0);
  for (const v of list) {
    if (!v.track.length) continue;
    const f = Math.min(100, Math.max(0, newest(v).fuel));
    counts[Math.min(bins - 1, Math.floor((f * bins) / 100))] += 1;
  }
  return counts.map((count, i) => ({ from: (100 * i) / bins, to: (100 * (i + 1)) / bins, count }));
}

// The distance a vehicle's track covered, summed per bucket of MILES_BUCKET_MS of absolute time (aligned to
// the epoch): each step between two consecutive points of one trip adds its distance to the bucket of the
// later point (a reset or a new trip adds nothing). Built from the track once (trackMiles) and then kept by
// pushPoint as points come and go, so the fleet's distance per hour costs a few buckets per vehicle at each
// draw, not a pass over every point of every track (a million at 5 000 vehicles).
export const MILES_BUCKET_MS = 30_000;

function addStep(miles, q, p, sign) {
  if (!q || p.trip !== q.trip || !(p.dist > q.dist)) return;
  const k = Math.floor(p.t / MILES_BUCKET_MS);
  const sum = (miles.get(k) ?? 0) + sign * (p.dist - q.dist);
  if (Math.abs(sum) < 1e-9) miles.delete(k);
  else miles.set(k, sum);
}

// The vehicle's miles per bucket (Map: bucket number -> miles).
export function trackMiles(v) {
  if (!v.miles) {
    v.miles = new Map();
    for (let i = 1; i < v.track.length; i++) addStep(v.miles, v.track[i - 1], v.track[i], 1);
  }
  return v.miles;
}

// Appends a point newer than the track's last, dropping the oldest beyond `limit`; the miles follow.
export function pushPoint(v, p, limit) {
  const t = v.track;
  if (v.miles) addStep(v.miles, t[t.length - 1], p, 1);
  t.push(p);
  while (t.length > limit) {
    if (v.miles) addStep(v.miles, t[0], t[1], -1);
    t.shift();
  }
}

// The fleet's distance per hour over the window in about `buckets` bars, each a whole number of miles
// buckets and aligned like them (the first may start before the window, the axis cuts it); the newest bar
// is a rate over the part of it that has passed. Returns bar starts and miles per hour.
export function distanceRate(list, win, buckets = 30) {
  const width = Math.max(1, Math.ceil((win.end - win.start) / buckets / MILES_BUCKET_MS)) * MILES_BUCKET_MS;
  const first = Math.floor(win.start / width) * width;
  const n = Math.max(1, Math.ceil((win.end - first) / width));
  const miles = new Array(n).fill(0);
  for (const v of list) {
    for (const [k, m] of trackMiles(v)) {
      const t = k * MILES_BUCKET_MS;
      if (t < first || t > win.end) continue;
      miles[Math.min(n - 1, Math.floor((t - first) / width))] += m;
    }
  }
  const starts = miles.map((_, i) => first + i * width);
  const hours = (i) => Math.min(width, Math.max(1000, win.end - starts[i])) / 3_600_000;
  return { starts, perHour: miles.map((m, i) => m / hours(i)) };
}

// Which labels fit: candidates in priority order, each a box {x, y, w, h} in pixels; a box is kept when it
// lies inside width × height and overlaps neither a `fixed` box (the markers) nor a box kept before it, up
// to `limit` boxes. A grid of `cell` pixels makes each test look only at the boxes near it. Returns the kept
// candidates' indices.
export function placeLabels(boxes, width, height, { limit = Infinity, fixed = [], cell = 64 } = {}) {
  const grid = new Map();
  const kept = [];
  const keys = (b) => {
    const out = [];
    for (let gx = Math.floor(b.x / cell); gx <= Math.floor((b.x + b.w) / cell); gx++) {
      for (let gy = Math.floor(b.y / cell); gy <= Math.floor((b.y + b.h) / cell); gy++) out.push(`${gx},${gy}`);
    }
    return out;
  };
  const add = (b) => {
    for (const k of keys(b)) {
      if (!grid.has(k)) grid.set(k, []);
      grid.get(k).push(b);
    }
  };
  const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  for (const b of fixed) add(b);
  for (let i = 0; i < boxes.length && kept.length < limit; i++) {
    const b = boxes[i];
    if (b.x < 0 || b.y < 0 || b.x + b.w > width || b.y + b.h > height) continue;
    if (keys(b).some((k) => (grid.get(k) ?? []).some((o) => overlaps(o, b)))) continue;
    add(b);
    kept.push(i);
  }
  return kept;
}

// What the page's URL carries (after '#'), so a view can be shared: the selected vehicles, the filter, the
// search, the chart window and the table's sort. Unknown or malformed parts fall back to the defaults.
export const VIEW_DEFAULTS = { selected: [], filter: 'all', q: '', window: '1h', sort: 'alert', dir: 'asc' };

export function parseView(hash) {
  const params = new URLSearchParams(String(hash ?? '').replace(/^#/, ''));
  const view = { ...VIEW_DEFAULTS, selected: [] };
  const ids = (params.get('v') ?? '').split(',').filter((s) => /^\d{1,15}$/.test(s)).map(Number);
  view.selected = [...new Set(ids)];
  if (FILTERS.includes(params.get('filter'))) view.filter = params.get('filter');
  view.q = (params.get('q') ?? '').slice(0, 100);
  if (Object.hasOwn(WINDOWS, params.get('window') ?? '')) view.window = params.get('window');
  if (Object.hasOwn(SORT_KEYS, params.get('sort') ?? '')) view.sort = params.get('sort');
  if (params.get('dir') === 'desc') view.dir = 'desc';
  return view;
}

export function formatView(view) {
  const params = new URLSearchParams();
  if (view.selected.length) params.set('v', view.selected.join(','));
  for (const k of ['filter', 'q', 'window', 'sort', 'dir']) {
    if (view[k] !== VIEW_DEFAULTS[k]) params.set(k, view[k]);
  }
  const s = params.toString().replace(/%2C/g, ',');
  return s ? `#${s}` : '';
}
