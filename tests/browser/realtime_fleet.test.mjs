// Browser test of the live dashboard at fleet scale (headless Chromium): 2 000 vehicles spread over 20
// metropolitan areas, some moving, some idle, some stale, some low on fuel. The fleet view clusters and
// labels only where labels fit (checked from the rendered label boxes), the KPIs equal SQL counts over the
// same rows, the table sorts, searches and filters while rendering only the rows in view, and a selection
// made in the table is in the URL, on the map, in the charts and in the details, and comes back from the
// URL on a new page. Needs the running stack; starts build/fleetpipe realtime on a free port. Screenshots go
// to build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { shots, psql, stopServices, launchChromium, startRealtime } from './support.mjs';

const FIRST = 991000; // ids at the top of the range are reserved for tests
const COUNT = 2000;
const LAST = FIRST + COUNT - 1;

function cleanup() {
  psql(`DELETE FROM trips WHERE vehicle_id BETWEEN ${FIRST} AND ${LAST};
        DELETE FROM vehicles WHERE id BETWEEN ${FIRST} AND ${LAST};
        DELETE FROM drivers WHERE id BETWEEN ${FIRST} AND ${LAST};`);
}

// Five points a minute apart per vehicle, around 20 cities except one in 50 (v % 50 = 49) on a grid of
// 5 × 8 far-apart points (alone at the fleet view: labelled there). By v % 10: 0–5 reported in the last 10 s, 6–7 two to four
// minutes ago, 8–9 ten to sixty minutes ago (stale); v % 3 = 0 stand still (idle), the others cover about
// 0.7 mile a minute; v % 7 = 0 are low on fuel.
function seed() {
  psql(`
    INSERT INTO drivers (id, name, license_number)
      SELECT v, 'Fleet Test ' || v, 'FT-' || v FROM generate_series(${FIRST}, ${LAST}) v;
    INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color)
      SELECT v, v, 'Ford', 'Transit', 30, (ARRAY['crimson', 'teal', 'navy', 'darkorange', 'purple'])[1 + v % 5]
      FROM generate_series(${FIRST}, ${LAST}) v;
    WITH city(n, lat, lon) AS (VALUES
        (0, 40.71, -74.01), (1, 34.05, -118.24), (2, 41.88, -87.63), (3, 29.76, -95.37), (4, 33.45, -112.07),
        (5, 39.95, -75.17), (6, 29.42, -98.49), (7, 32.72, -117.16), (8, 32.78, -96.80), (9, 37.34, -121.89),
        (10, 30.27, -97.74), (11, 39.74, -104.99), (12, 47.61, -122.33), (13, 25.76, -80.19), (14, 42.36, -71.06),
        (15, 33.75, -84.39), (16, 44.98, -93.27), (17, 36.17, -115.14), (18, 45.52, -122.68), (19, 35.23, -80.84)),
      fleet AS (
        SELECT v,
               CASE WHEN v % 50 = 49 THEN 29 + ((v - ${FIRST}) / 50 % 5) * 4.2
                    ELSE c.lat + ((v::bigint * 7919) % 1000) / 1000.0 - 0.5 END AS lat,
               CASE WHEN v % 50 = 49 THEN -121 + ((v - ${FIRST}) / 250) * 6.3
                    ELSE c.lon + ((v::bigint * 104729) % 1000) / 700.0 - 0.7 END AS lon,
               (now() AT TIME ZONE 'UTC') - CASE WHEN v % 10 < 6 THEN (v % 10) * interval '1 second'
                                                 WHEN v % 10 < 8 THEN interval '2 minutes' + (v % 100) * interval '1 second'
                                                 ELSE interval '10 minutes' + (v % 50) * interval '1 minute' END AS newest,
               CASE WHEN v % 3 = 0 THEN 0 ELSE 0.01 END AS step,
               CASE WHEN v % 7 = 0 THEN 8 ELSE 20 + v % 75 END AS fuel,
               (ARRAY['crimson', 'teal', 'navy', 'darkorange', 'purple'])[1 + v % 5] AS color
        FROM generate_series(${FIRST}, ${LAST}) v JOIN city c ON c.n = v % 20)
    INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
                       fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
      SELECT v, 1, s, newest - (5 - s) * interval '1 minute', lat + step * s, lon, 30, step * s * 69, fuel + 5 - s,
             (fuel + 5 - s) * 0.3, color
      FROM fleet, generate_series(1, 5) s;`);
}

// The KPIs as SQL counts over every vehicle's newest row (by time), with the page's thresholds.
function sqlKpis() {
  const [vehicles, reporting, stale, low] = psql(`
    WITH newest AS (
      SELECT DISTINCT ON (vehicle_id) measurement_time AS t, fuel_remaining_percent AS fuel
      FROM trips ORDER BY vehicle_id, measurement_time DESC, measurement_sequence DESC)
    SELECT count(*), count(*) FILTER (WHERE t >= (now() AT TIME ZONE 'UTC') - interval '1 minute'),
           count(*) FILTER (WHERE t < (now() AT TIME ZONE 'UTC') - interval '5 minutes'),
           count(*) FILTER (WHERE fuel < 15)
    FROM newest`).trim().split('|').map(Number);
  return { vehicles, reporting, stale, 'low-fuel': low };
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

let browser;
let realtime;

before(async () => {
  cleanup();
  seed();
  realtime = await startRealtime('fleet');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServices();
  cleanup();
});

async function openDashboard(hash = '') {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1200 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const offsite = [];
  page.on('request', (r) => { if (!r.url().startsWith(realtime.base)) offsite.push(r.url()); });
  await page.goto(`${realtime.base}/${hash}`);
  await page.waitForSelector('#status.online', { timeout: 5000 });
  await page.waitForFunction((n) => (window.__realtime.kpis?.vehicles ?? 0) >= n, COUNT, { timeout: 30000 });
  await page.waitForFunction(() => (window.__realtime.map()?.markers ?? 0) + (window.__realtime.map()?.clusters ?? 0) > 0);
  return { page, errors, offsite };
}

test('the fleet view clusters, labels only where labels fit, and its KPIs equal SQL counts', async () => {
  const { page, errors, offsite } = await openDashboard();
  // The fleet view of the contiguous US at zoom 4, whatever else the stack's database holds (the page frames
  // every vehicle it knows by itself).
  await page.evaluate(() => window.__realtime.setView(39.5, -98.5, 4));
  await page.waitForTimeout(400);
  // KPIs against SQL: read the page, then SQL, then the page again; equal when nothing crossed a threshold
  // between the two reads of the page (rows age by the second).
  let compared = false;
  for (let attempt = 0; attempt < 5 && !compared; attempt++) {
    await page.waitForTimeout(600); // a draw has the current clock
    const before = await page.evaluate(() => window.__realtime.kpis);
    const sql = sqlKpis();
    await page.waitForTimeout(600);
    const after = await page.evaluate(() => window.__realtime.kpis);
    if (JSON.stringify(before) !== JSON.stringify(after)) continue;
    for (const k of ['vehicles', 'reporting', 'stale', 'low-fuel']) assert.equal(before[k], sql[k], `KPI ${k}`);
    assert.equal(before.moving + before.idle, before.vehicles - before.stale);
    assert.equal(await page.locator('#kpi-low-fuel').innerText(), String(sql['low-fuel']));
    compared = true;
  }
  assert.ok(compared, 'the KPIs held still long enough to compare');

  const stats = await page.evaluate(() => window.__realtime.map());
  console.log(`fleet view: zoom ${stats.zoom}, ${stats.clusters} clusters of ${stats.clustered} vehicles, ` +
    `${stats.markers} single markers, ${stats.labels.length} labels`);
  assert.ok(stats.clusters > 0 && stats.clustered >= COUNT / 2, 'the fleet view clusters');
  assert.ok(stats.labels.length >= 10, `${stats.labels.length} labels: the vehicles standing alone are labelled`);
  const mapBox = await page.locator('#map').boundingBox();
  for (let i = 0; i < stats.labels.length; i++) {
    const a = stats.labels[i];
    assert.ok(a.x >= mapBox.x - 0.5 && a.x + a.w <= mapBox.x + mapBox.width + 0.5, `label ${a.id} inside the map`);
    for (let j = i + 1; j < stats.labels.length; j++) {
      assert.ok(!overlaps(a, stats.labels[j]), `labels ${a.id} and ${stats.labels[j].id} overlap`);
    }
  }
  // The charts show fleet aggregates for 2 000 vehicles, not 2 000 lines.
  assert.deepEqual(await page.evaluate(() => window.__realtime.charts), { fuel: 'fleet', distance: 'fleet' });
  // The table renders only the rows in view.
  const rendered = await page.locator('#vehicles tbody tr[data-vehicle]').count();
  assert.ok(rendered > 5 && rendered < 80, `${rendered} rows in the document`);
  await page.screenshot({ path: path.join(shots, 'realtime-fleet.png') });

  // A click on a cluster zooms in; zoomed in far enough, single markers with labels and no clusters.
  for (let i = 0; i < 6; i++) {
    const s = await page.evaluate(() => window.__realtime.map());
    if (s.clusters === 0) break;
    const target = await page.evaluate(() => window.__realtime.map().clusterPoints[0]);
    await page.mouse.click(mapBox.x + target.x, mapBox.y + target.y);
    await page.waitForTimeout(400);
  }
  const zoomed = await page.evaluate(() => window.__realtime.map());
  console.log(`zoomed in: zoom ${zoomed.zoom}, ${zoomed.markers} markers, ${zoomed.labels.length} labels`);
  assert.ok(zoomed.zoom >= 8 && zoomed.clusters === 0 && zoomed.markers > 0, JSON.stringify({ ...zoomed, labels: zoomed.labels.length }));
  assert.ok(zoomed.labels.length > 0);
  for (let i = 0; i < zoomed.labels.length; i++) {
    for (let j = i + 1; j < zoomed.labels.length; j++) assert.ok(!overlaps(zoomed.labels[i], zoomed.labels[j]));
  }
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, 'realtime-fleet-zoomed.png') });
  assert.deepEqual(offsite, [], 'the page requested nothing from other origins');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the table sorts, searches and filters; a selection travels to the map, charts, details and URL', async () => {
  const { page, errors } = await openDashboard();
  // Alerts first by default.
  assert.equal(await page.locator('#vehicles tbody tr[data-vehicle]').first().locator('td[data-field="alert"]').innerText(), 'LOW FUEL');
  // Sort by fuel, both ways.
  await page.click('th[data-field="fuel"] button');
  await page.waitForTimeout(400);
  const ascending = await page.$$eval('#vehicles tbody tr[data-vehicle]', (trs) => trs.map((tr) => Number(tr.querySelector('td[data-field="fuel"]').textContent)));
  assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
  const minFuel = Number(psql('SELECT min(fuel_remaining_percent) FROM (SELECT DISTINCT ON (vehicle_id) fuel_remaining_percent FROM trips ORDER BY vehicle_id, measurement_time DESC, measurement_sequence DESC) n'));
  assert.equal(ascending[0], minFuel);
  await page.click('th[data-field="fuel"] button');
  await page.waitForTimeout(400);
  const descending = await page.$$eval('#vehicles tbody tr[data-vehicle]', (trs) => trs.map((tr) => Number(tr.querySelector('td[data-field="fuel"]').textContent)));
  assert.deepEqual(descending, [...descending].sort((a, b) => b - a));
  assert.equal(await page.getAttribute('th[data-field="fuel"]', 'aria-sort'), 'descending');

  // The low-fuel KPI filters the table.
  await page.click('.kpi[data-filter="low-fuel"]');
  await page.waitForTimeout(400);
  assert.match(page.url(), /filter=low-fuel/);
  const alerts = await page.$$eval('#vehicles tbody tr[data-vehicle] td[data-field="alert"]', (tds) => tds.map((td) => td.textContent));
  assert.ok(alerts.length > 0 && alerts.every((a) => a === 'LOW FUEL'));
  await page.click('.kpi[data-filter="low-fuel"]'); // again: the filter is off
  await page.waitForTimeout(300);

  // Search by id, then select the vehicle from the table.
  const vehicle = FIRST + 1; // moving, reporting, not low on fuel
  await page.fill('#search', String(vehicle));
  await page.waitForTimeout(400);
  const found = await page.$$eval('#vehicles tbody tr[data-vehicle]', (trs) => trs.map((tr) => Number(tr.dataset.vehicle)));
  assert.ok(found.includes(vehicle) && found.every((id) => String(id).includes(String(vehicle))), JSON.stringify(found));
  await page.click(`#vehicles tr[data-vehicle="${vehicle}"]`);
  await page.waitForTimeout(600);
  assert.match(page.url(), new RegExp(`#.*v=${vehicle}`));
  assert.equal(await page.getAttribute(`#vehicles tr[data-vehicle="${vehicle}"]`, 'aria-selected'), 'true');
  assert.equal(await page.locator(`#details .card[data-vehicle="${vehicle}"]`).count(), 1);
  assert.match(await page.locator(`#details .card[data-vehicle="${vehicle}"]`).innerText(), /trip\s+1 since/);
  assert.deepEqual(await page.evaluate(() => window.__realtime.charts), { fuel: 'lines', distance: 'lines' });
  // The map frames the selection and labels the selected vehicle.
  const stats = await page.evaluate(() => window.__realtime.map());
  assert.ok(stats.labels.some((l) => l.id === vehicle), 'the selected vehicle is labelled');
  // Its five points are its track on the fuel chart.
  const fuelPoints = await page.evaluate(() => document.getElementById('fuel-chart').data.reduce((n, t) => n + t.y.filter((y) => y !== null).length, 0));
  assert.equal(fuelPoints, 5);
  await page.screenshot({ path: path.join(shots, 'realtime-fleet-selected.png') });

  // The URL carries the view to a new page.
  const url = new URL(page.url());
  const shared = await openDashboard(url.hash);
  await shared.page.waitForSelector(`#details .card[data-vehicle="${vehicle}"]`, { timeout: 5000 });
  assert.equal(await shared.page.inputValue('#search'), String(vehicle));
  assert.deepEqual(await shared.page.evaluate(() => window.__realtime.view().selected), [vehicle]);
  assert.deepEqual(shared.errors, []);
  await shared.page.close();
  assert.deepEqual(errors, []);
  await page.close();
});
