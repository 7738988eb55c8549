// The dashboard's track logic that needs no page: decoding the server's column form, and turning vehicles'
// tracks into plot traces. An ES module, imported by app.js and by tests/web/ under node.

// Points kept per vehicle, as the server does (`fleetpipe realtime --track-points`).
export const TRACK_LIMIT = 200;

// A plot draws at most this many points: beyond it every track is thinned evenly (its newest point always
// kept), so a fleet of hundreds of vehicles costs a draw about what 100 vehicles do.
export const POINT_BUDGET = 20000;

// The server sends tracks as columns (one array per field); the page keeps one object per point. An object
// literal, so that every point has one shape with its fields inside the object (built field by field, V8
// gives it a separate property store): a million points at 5 000 vehicles.
export function pointAt(cols, i) {
  return {
    t: cols.t[i], lat: cols.lat[i], lon: cols.lon[i], fuel: cols.fuel[i], gal: cols.gal[i], dist: cols.dist[i],
    speed: cols.speed[i], trip: cols.trip[i], seq: cols.seq[i],
  };
}

export function rows(cols) {
  const n = cols && cols.t ? cols.t.length : 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = pointAt(cols, i);
  return out;
}

// Every how many points a plot of these vehicles keeps one: the smallest stride that stays within the
// budget (each track keeps at least its newest point, so more vehicles than the budget still draw one each).
export function strideFor(list, budget = POINT_BUDGET) {
  const lengths = list.map((v) => v.track.length).filter((n) => n > 0);
  const kept = (stride) => lengths.reduce((sum, n) => sum + Math.ceil(n / stride), 0);
  const longest = lengths.reduce((a, b) => Math.max(a, b), 1);
  let stride = Math.max(1, Math.ceil(lengths.reduce((a, b) => a + b, 0) / budget));
  while (stride < longest && kept(stride) > budget) stride += 1;
  return Math.min(stride, longest);
}

// Groups vehicles' tracks by colour as x(p), y(p) and the vehicle's id per point, keeping every `stride`-th
// point counted back from the newest. A null between two vehicles, and between two trips of one vehicle,
// breaks the line there. One trace per colour rather than per vehicle: Plotly's cost grows with the number
// of traces.
export function byColor(list, x, y, stride = 1) {
  const groups = new Map();
  const gap = (g) => { g.xs.push(null); g.ys.push(null); g.ids.push(null); };
  for (const v of list) {
    const n = v.track.length;
    if (!n) continue;
    let g = groups.get(v.color);
    if (!g) groups.set(v.color, (g = { color: v.color, xs: [], ys: [], ids: [] }));
    else gap(g);
    let trip = null;
    for (let i = (n - 1) % stride; i < n; i += stride) {
      const p = v.track[i];
      if (trip !== null && p.trip !== trip) gap(g);
      trip = p.trip;
      g.xs.push(x(p)); g.ys.push(y(p)); g.ids.push(v.id);
    }
  }
  return [...groups.values()];
}
