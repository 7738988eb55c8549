// Unit tests of the dashboard's fleet logic (web/realtime/fleet.js), under node: no page, no stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STALE_MS, chartWindow, distanceRate, formatView, fuelHistogram, kpis, matches, parseView, placeLabels, pushPoint,
  searchIds, sortVehicles, stateOf, trackMiles, windowEnd,
} from '../../web/realtime/fleet.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const pt = (t, extra = {}) => ({ t, lat: 40, lon: -75, fuel: 50, gal: 10, dist: 0, speed: 30, trip: 1, seq: 1, ...extra });
const veh = (id, track, color = 'blue') => ({ id, color, track });

test('a vehicle is moving, idle or stale by its newest point; low fuel and reporting are beside it', () => {
  assert.equal(stateOf(pt(NOW - 1000, { speed: 30 }), NOW), 'moving');
  assert.equal(stateOf(pt(NOW - 1000, { speed: 0.5 }), NOW), 'idle');
  assert.equal(stateOf(pt(NOW - STALE_MS - 1, { speed: 30 }), NOW), 'stale');
  assert.equal(stateOf(pt(NOW - STALE_MS, { speed: 30 }), NOW), 'moving');
  const fleet = [
    veh(1, [pt(NOW - 5_000, { speed: 40 })]),
    veh(2, [pt(NOW - 30_000, { speed: 0, fuel: 10 })]),
    veh(3, [pt(NOW - 90_000, { speed: 50 })]),
    veh(4, [pt(NOW - 600_000, { speed: 50, fuel: 5 })]),
    veh(5, []), // no point: not counted anywhere
    veh(6, [pt(NOW + 3_600_000, { speed: 10 })]), // dated in the future: reporting, as SQL's >= now() - 1 min says
  ];
  assert.deepEqual(kpis(fleet, NOW, 15), { vehicles: 5, reporting: 3, moving: 3, idle: 1, 'low-fuel': 2, stale: 1 });
  const ids = (f) => fleet.filter((v) => matches(v, f, NOW, 15)).map((v) => v.id);
  assert.deepEqual(ids('all'), [1, 2, 3, 4, 6]);
  assert.deepEqual(ids('reporting'), [1, 2, 6]);
  assert.deepEqual(ids('moving'), [1, 3, 6]);
  assert.deepEqual(ids('idle'), [2]);
  assert.deepEqual(ids('low-fuel'), [2, 4]);
  assert.deepEqual(ids('stale'), [4]);
});

test('search finds ids containing any of the typed terms', () => {
  const ids = [7, 17, 170, 1234, 990201];
  assert.deepEqual(ids.filter(searchIds('17')), [17, 170]);
  assert.deepEqual(ids.filter(searchIds(' 7, 1234 ')), [7, 17, 170, 1234]);
  assert.deepEqual(ids.filter(searchIds('')), ids);
  assert.deepEqual(ids.filter(searchIds('x')), []);
});

test('the default sort puts alerts first, then stale vehicles, ties by id; any column sorts both ways', () => {
  const fleet = [
    veh(5, [pt(NOW - 1000, { fuel: 60, speed: 10 })]),
    veh(3, [pt(NOW - 1000, { fuel: 10, speed: 70 })]),
    veh(9, [pt(NOW - STALE_MS * 2, { fuel: 80, speed: 0 })]),
    veh(1, [pt(NOW - 1000, { fuel: 60, speed: 20 })]),
    veh(4, [pt(NOW - STALE_MS * 2, { fuel: 12, speed: 0 })]),
  ];
  const ctx = { now: NOW, lowFuel: 15 };
  const order = (key, dir) => sortVehicles(fleet, key, dir, ctx).map((v) => v.id);
  assert.deepEqual(order('alert', 'asc'), [4, 3, 9, 1, 5]);
  assert.deepEqual(order('speed', 'asc'), [4, 9, 5, 1, 3]);
  assert.deepEqual(order('speed', 'desc'), [3, 1, 5, 4, 9]);
  assert.deepEqual(order('vehicle', 'desc'), [9, 5, 4, 3, 1]);
  assert.deepEqual(order('state', 'asc'), [1, 3, 5, 4, 9]);
  assert.deepEqual(order('no such column', 'asc'), order('alert', 'asc'));
});

test('the chart window ends at the newest data, not at rows dated in the future, and not at the oldest', () => {
  const fleet = [
    veh(1, [pt(Date.UTC(2024, 3, 17)), pt(Date.UTC(2024, 3, 17, 1))]), // an old trip
    veh(2, [pt(NOW - 120_000), pt(NOW - 60_000)]),
    veh(3, [pt(NOW - 30_000), pt(NOW + 86_400_000 * 30)]), // its newest row is a month ahead
  ];
  assert.equal(windowEnd(fleet, NOW), NOW - 30_000);
  assert.deepEqual(chartWindow(fleet, NOW, '15m'), { start: NOW - 30_000 - 900_000, end: NOW - 30_000 });
  assert.deepEqual(chartWindow(fleet, NOW, '1h'), { start: NOW - 30_000 - 3_600_000, end: NOW - 30_000 });
  // Only old data: the window is the newest hour of it.
  const old = [fleet[0]];
  assert.deepEqual(chartWindow(old, NOW, '1h'), { start: Date.UTC(2024, 3, 17), end: Date.UTC(2024, 3, 17, 1) });
  // Only future data: its newest point.
  assert.equal(windowEnd([veh(4, [pt(NOW + 3_600_000)])], NOW), NOW + 3_600_000);
  assert.equal(chartWindow([], NOW, '1h'), null);
});

test("the trip window spans the selected vehicles' current trips", () => {
  const a = veh(1, [pt(NOW - 9_000_000, { trip: 1 }), pt(NOW - 3_000_000, { trip: 2 }), pt(NOW - 1000, { trip: 2 })]);
  const b = veh(2, [pt(NOW - 600_000, { trip: 7 }), pt(NOW - 500, { trip: 7 })]);
  assert.deepEqual(chartWindow([a, b], NOW, 'trip', [a]), { start: NOW - 3_000_000, end: NOW - 500 });
  assert.deepEqual(chartWindow([a, b], NOW, 'trip', [b]), { start: NOW - 600_000, end: NOW - 500 });
  assert.deepEqual(chartWindow([a, b], NOW, 'trip'), { start: NOW - 3_000_000, end: NOW - 500 });
});

test('fleet aggregates: the fuel histogram and the distance per hour', () => {
  const fleet = [0, 5, 14.9, 15, 50, 99.9, 100, 120].map((fuel, i) => veh(i, [pt(NOW, { fuel })]));
  assert.deepEqual(fuelHistogram(fleet, 10).map((b) => b.count), [2, 2, 0, 0, 0, 1, 0, 0, 0, 3]);
  assert.deepEqual(fuelHistogram(fleet, 10)[1], { from: 10, to: 20, count: 2 });
  // Two vehicles over an hour in 4 buckets of 15 min: one covers 10 mi in the first bucket and 5 in the
  // last; the other starts a new trip (its odometer reset adds nothing), then covers 2 mi.
  const win = { start: NOW - 3_600_000, end: NOW };
  const a = veh(1, [pt(NOW - 4_000_000, { dist: 0 }), pt(NOW - 3_000_000, { dist: 10 }), pt(NOW - 100, { dist: 15 })]);
  const b = veh(2, [pt(NOW - 2_000_000, { dist: 50, trip: 1 }), pt(NOW - 1_900_000, { dist: 0, trip: 2 }),
    pt(NOW - 1_850_000, { dist: 2, trip: 2 })]);
  const rate = distanceRate([a, b], win, 4);
  assert.deepEqual(rate.starts, [NOW - 3_600_000, NOW - 2_700_000, NOW - 1_800_000, NOW - 900_000]);
  assert.deepEqual(rate.perHour, [40, 8, 0, 20]);
});

test('the miles kept while points are pushed and dropped equal the miles of the track built afresh', () => {
  const v = veh(1, [pt(NOW - 600_000, { dist: 0 })]);
  trackMiles(v); // kept from here on
  let dist = 0;
  for (let i = 1; i <= 500; i++) {
    // A trip change every 120 points (its odometer starts again), one odometer reset mid-trip, irregular steps.
    if (i === 250) dist = 1;
    else dist += (i % 7) * 0.01;
    pushPoint(v, pt(NOW - 600_000 + i * 1_100, { dist, trip: 1 + Math.floor(i / 120) }), 200);
  }
  assert.equal(v.track.length, 200);
  const kept = [...trackMiles(v)].sort((a, b) => a[0] - b[0]);
  const fresh = [...trackMiles(veh(2, v.track))].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(kept.map(([k]) => k), fresh.map(([k]) => k));
  kept.forEach(([, m], i) => assert.ok(Math.abs(m - fresh[i][1]) < 1e-9, `bucket ${i}: ${m} against ${fresh[i][1]}`));
  // And the rate reads them: every mile of the track in the window is counted once (30 whole bars of 2 min:
  // NOW is on a bar's edge).
  const rate = distanceRate([v], { start: NOW - 3_600_000, end: NOW }, 30);
  assert.equal(rate.starts.length, 30);
  const total = rate.perHour.reduce((sum, r) => sum + (r * 120_000) / 3_600_000, 0);
  const expected = fresh.reduce((sum, [, m]) => sum + m, 0);
  assert.ok(Math.abs(total - expected) < 1e-6, `${total} against ${expected}`);
});

test('labels are kept in priority order where they neither overlap nor cover a marker nor leave the map', () => {
  const boxes = [
    { x: 10, y: 10, w: 30, h: 14 }, // kept
    { x: 20, y: 15, w: 30, h: 14 }, // overlaps the first
    { x: 40, y: 10, w: 30, h: 14 }, // touches the first's edge only: kept
    { x: 190, y: 10, w: 30, h: 14 }, // leaves a 200-px-wide map
    { x: 100, y: 100, w: 30, h: 14 }, // covers a marker
    { x: 100, y: 150, w: 30, h: 14 }, // kept
  ];
  const fixed = [{ x: 110, y: 105, w: 8, h: 8 }];
  assert.deepEqual(placeLabels(boxes, 200, 200, { fixed }), [0, 2, 5]);
  assert.deepEqual(placeLabels(boxes, 200, 200, { fixed, limit: 2 }), [0, 2]);
  // Many candidates on a small map: whatever is kept never overlaps.
  const many = Array.from({ length: 3000 }, (_, i) => ({ x: (i * 37) % 580, y: (i * 53) % 380, w: 28, h: 14 }));
  const kept = placeLabels(many, 600, 400).map((i) => many[i]);
  assert.ok(kept.length > 100 && kept.length < 3000, `${kept.length} kept`);
  for (let i = 0; i < kept.length; i++) {
    for (let j = i + 1; j < kept.length; j++) {
      const [p, q] = [kept[i], kept[j]];
      assert.ok(!(p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h), 'overlap');
    }
  }
});

test('the view travels in the URL and comes back the same; bad parts fall back to the defaults', () => {
  const view = { selected: [12, 990201], filter: 'low-fuel', q: '99', window: '15m', sort: 'fuel', dir: 'desc' };
  const hash = formatView(view);
  assert.equal(hash, '#v=12,990201&filter=low-fuel&q=99&window=15m&sort=fuel&dir=desc');
  assert.deepEqual(parseView(hash), view);
  assert.equal(formatView(parseView('')), '');
  assert.deepEqual(parseView('#v=1,x,2,1&filter=nope&window=2d&sort=__proto__&dir=up'),
    { selected: [1, 2], filter: 'all', q: '', window: '1h', sort: 'alert', dir: 'asc' });
});
