// Unit tests of the dashboard's track logic (web/realtime/tracks.js), under node: no page, no stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rows, strideFor, byColor, POINT_BUDGET } from '../../web/realtime/tracks.js';

const point = (t, trip, extra = {}) => ({ t, lat: 49 + t / 1000, lon: -123, fuel: 50, gal: 10, dist: t, speed: 60, trip, seq: t, ...extra });
const vehicle = (id, color, track) => ({ id, color, track });

test('columns decode into one object per point, in order', () => {
  const cols = { t: [1, 2], lat: [49, 50], lon: [-123, -122], fuel: [90, 89], gal: [27, 26.7], dist: [0, 1.5],
    speed: [0, 60], trip: [1, 1], seq: [1, 2] };
  assert.deepEqual(rows(cols), [
    { t: 1, lat: 49, lon: -123, fuel: 90, gal: 27, dist: 0, speed: 0, trip: 1, seq: 1 },
    { t: 2, lat: 50, lon: -122, fuel: 89, gal: 26.7, dist: 1.5, speed: 60, trip: 1, seq: 2 },
  ]);
  assert.deepEqual(rows(undefined), []);
  assert.deepEqual(rows({}), []);
});

test('vehicles of one colour share a trace, broken by a gap between them', () => {
  const list = [
    vehicle(1, 'red', [point(1, 1), point(2, 1)]),
    vehicle(2, 'blue', [point(1, 1)]),
    vehicle(3, 'red', [point(5, 1)]),
    vehicle(4, 'red', []), // nothing to draw: no trace, no gap
  ];
  const groups = byColor(list, (p) => p.t, (p) => p.dist);
  assert.deepEqual(groups.map((g) => g.color), ['red', 'blue']);
  assert.deepEqual(groups[0].xs, [1, 2, null, 5]);
  assert.deepEqual(groups[0].ids, [1, 1, null, 3]);
  assert.deepEqual(groups[1].xs, [1]);
});

test('a new trip breaks the line, so no segment joins one trip to the next', () => {
  const groups = byColor([vehicle(7, 'red', [point(1, 1), point(2, 1), point(3, 2), point(4, 2)])],
    (p) => p.t, (p) => p.dist);
  assert.deepEqual(groups[0].xs, [1, 2, null, 3, 4]);
  assert.deepEqual(groups[0].ys, [1, 2, null, 3, 4]);
});

test('thinning keeps every stride-th point counted back from the newest, which is always kept', () => {
  const track = Array.from({ length: 10 }, (_, i) => point(i, 1));
  const groups = byColor([vehicle(1, 'red', track)], (p) => p.t, (p) => p.t, 3);
  assert.deepEqual(groups[0].xs, [0, 3, 6, 9]);
  const four = byColor([vehicle(1, 'red', track)], (p) => p.t, (p) => p.t, 4);
  assert.deepEqual(four[0].xs, [1, 5, 9]);
  // A track shorter than the stride keeps its newest point.
  assert.deepEqual(byColor([vehicle(1, 'red', track.slice(0, 2))], (p) => p.t, (p) => p.t, 5)[0].xs, [1]);
});

test('the stride keeps a plot within the point budget', () => {
  const fleet = (vehicles, points) => Array.from({ length: vehicles }, (_, id) =>
    vehicle(id, ['red', 'blue', 'green'][id % 3], Array.from({ length: points }, (__, i) => point(i, 1))));
  assert.equal(strideFor(fleet(50, 200)), 1); // 10 000 points: all of them
  for (const [n, points] of [[550, 200], [1000, 200], [101, 199], [2000, 11]]) {
    const list = fleet(n, points);
    const stride = strideFor(list);
    const drawn = byColor(list, (p) => p.t, (p) => p.t, stride)
      .reduce((sum, g) => sum + g.xs.filter((x) => x !== null).length, 0);
    assert.ok(drawn <= POINT_BUDGET, `${n} vehicles × ${points}: ${drawn} points drawn`);
    assert.ok(drawn > POINT_BUDGET / 2, `${n} vehicles × ${points}: only ${drawn} points drawn`);
  }
  // More vehicles than the budget: each still shows its newest point.
  const crowd = fleet(POINT_BUDGET + 10, 3);
  assert.equal(strideFor(crowd), 3);
});
