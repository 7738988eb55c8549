// Browser test of `fleetpipe realtime` in headless Chromium (playwright-core, Debian's /usr/bin/chromium):
// a trip submitted through the web app's form travels webapp -> Postgres -> Debezium -> Kafka -> realtime
// -> SSE, and the vehicle moves on the dashboard within 2 s; a stream of changes is applied at once but drawn
// on a budget. Needs the running stack (configuration from the environment); starts build/fleetpipe webapp
// and realtime on free ports. Screenshots go to build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { root, shots, psql, startService, stopServices, launchChromium, startRealtime } from './support.mjs';

const vehicle = 990201; // ids at the top of the range are reserved for tests

function cleanup() {
  psql(`DELETE FROM trips WHERE vehicle_id = ${vehicle}; DELETE FROM vehicles WHERE id = ${vehicle};
        DELETE FROM drivers WHERE id = ${vehicle};`);
}

let browser;
let webapp;
let realtime;

before(async () => {
  cleanup();
  psql(`INSERT INTO drivers (id, name, license_number) VALUES (${vehicle}, 'Browser Test', 'RT-BROWSER');
        INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color)
        VALUES (${vehicle}, ${vehicle}, 'Ford', 'Transit', 30, 'crimson');`);
  webapp = await startService('webapp', ['--static-dir', path.join(root, 'web/webapp')]);
  realtime = await startRealtime('browser');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServices();
  cleanup();
});

async function fill(page, values) {
  for (const [name, value] of Object.entries(values)) await page.fill(`input[name="${name}"]`, value);
}

test('a trip submitted through the web form moves the vehicle on the dashboard within 2 s', async () => {
  const dash = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  const offsite = [];
  dash.on('request', (r) => { if (!r.url().startsWith(realtime.base)) offsite.push(r.url()); });
  const errors = [];
  dash.on('pageerror', (e) => errors.push(String(e)));
  dash.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const failed = [];
  let eventsEncoding = null;
  dash.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    if (new URL(r.url()).pathname === '/events') eventsEncoding = r.headers()['content-encoding'] ?? '';
  });
  // The vehicle's id in the search box, as a user looking for it among many would type it.
  await dash.goto(`${realtime.base}/#q=${vehicle}`);
  await dash.waitForSelector('#status.online', { timeout: 5000 });

  // A first point, written directly, tells us the consumer has caught up with the topic.
  psql(`INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
          fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
        VALUES (${vehicle}, 1, 1, '2024-04-17 08:00:00', 49.25, -123.1, 30, 10, 90, 27, 'crimson')`);
  const row = dash.locator(`tr[data-vehicle="${vehicle}"]`);
  await row.waitFor({ timeout: 60000 });
  assert.equal(await row.locator('td[data-field="lat"]').innerText(), '49.25000');

  // The web app's form, as a user would submit it.
  const form = await browser.newPage();
  await form.goto(`${webapp.base}/`);
  await fill(form, {
    vehicle_id: String(vehicle), trip_id: '1', measurement_sequence: '2', measurement_time: '2024-04-17 08:15:00',
    latitude: '49.5', longitude: '-122.75', fuel_capacity: '30', distance_traveled: '30.5',
    fuel_remaining_percent: '12', fuel_remaining_gallon: '3.6', color: 'crimson',
  });
  // From the click to the dashboard, whatever the form's own answer page costs to render meanwhile.
  const submitted = Date.now();
  const navigated = form.waitForNavigation();
  await form.click('button[type="submit"]');
  await dash.waitForFunction((v) => {
    const cell = document.querySelector(`tr[data-vehicle="${v}"] td[data-field="lat"]`);
    return cell && cell.textContent === '49.50000';
  }, vehicle, { timeout: 2000 });
  const elapsed = Date.now() - submitted;
  assert.equal((await navigated).status(), 200);
  console.log(`form submit -> dashboard: ${elapsed} ms`);
  assert.ok(elapsed <= 2000, `took ${elapsed} ms`);
  assert.equal(await row.locator('td[data-field="lon"]').innerText(), '-122.75000');
  assert.equal(await row.locator('td[data-field="alert"]').innerText(), 'LOW FUEL');
  // The vehicle's colour came with its first point (a vehicle new to the page).
  assert.equal(await row.locator('.swatch').evaluate((e) => e.style.background), 'crimson');
  // About 23.4 miles (haversine) in 15 minutes.
  const speed = Number(await row.locator('td[data-field="speed"]').innerText());
  assert.ok(speed > 90 && speed < 97, `speed ${speed}`);

  // The search narrowed the table to the vehicle; a click selects it, on the map and in the URL.
  assert.equal(await dash.locator('#vehicles tbody tr[data-vehicle]').count(), 1);
  await row.click();
  await dash.waitForSelector(`#details .card[data-vehicle="${vehicle}"]`, { timeout: 2000 });
  assert.match(dash.url(), new RegExp(`v=${vehicle}`));
  // The map drew its basemap from the locally served geometry.
  await dash.waitForFunction(() => window.__realtime.map()?.basemap === true, null, { timeout: 5000 });
  await dash.waitForTimeout(300);
  await dash.screenshot({ path: path.join(shots, 'realtime-dashboard.png'), fullPage: true });
  assert.deepEqual(offsite, [], 'the page requested nothing from other origins');
  // The browser asked for gzip, so the event stream came compressed (one deflate per shared frame).
  assert.equal(eventsEncoding, 'gzip');
  assert.deepEqual(failed, [], 'every resource of the page loads');
  assert.deepEqual(errors, []);
  await form.close();
  await dash.close();
});

test('a stream of changes is applied as it comes but drawn at most four times a second', async () => {
  const dash = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  dash.on('pageerror', (e) => errors.push(String(e)));
  // The vehicle selected, and a window long enough for both its trips.
  await dash.goto(`${realtime.base}/#v=${vehicle}&q=${vehicle}&window=6h`);
  await dash.waitForSelector('#status.online', { timeout: 5000 });
  // A point of its own first (whatever ran before): once it shows, the consumer has caught up.
  psql(`INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
          fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
        VALUES (${vehicle}, 2, 2, TIMESTAMP '2024-04-17 09:02:00', 49.02, -123, 30, 2, 80, 24, 'crimson')
        ON CONFLICT DO NOTHING`);
  await dash.waitForFunction((v) => {
    const cell = document.querySelector(`tr[data-vehicle="${v}"] td[data-field="lat"]`);
    return cell && cell.textContent === '49.02000';
  }, vehicle, { timeout: 60000 });
  const before = await dash.evaluate(() => ({ events: window.__realtime.events, draws: window.__realtime.draws }));
  const started = Date.now();
  // 40 commits 50 ms apart: each is its own change event, one per 50 ms tick.
  psql(`DO $$ BEGIN
          FOR i IN 3..42 LOOP
            INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
                               fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
            VALUES (${vehicle}, 2, i, TIMESTAMP '2024-04-17 09:00:00' + i * INTERVAL '1 minute', 49 + i * 0.01,
                    -123, 30, i, 80, 24, 'crimson');
            COMMIT;
            PERFORM pg_sleep(0.05);
          END LOOP;
        END $$;`);
  await dash.waitForFunction((v) => {
    const cell = document.querySelector(`tr[data-vehicle="${v}"] td[data-field="seq"]`);
    return cell && cell.textContent === '42';
  }, vehicle, { timeout: 10000 });
  await dash.waitForTimeout(300); // a draw still pending is counted too
  const elapsed = Date.now() - started;
  const after = await dash.evaluate(() => ({ events: window.__realtime.events, draws: window.__realtime.draws }));
  const draws = after.draws - before.draws;
  console.log(`${after.events - before.events} changes in ${elapsed} ms, ${draws} draws`);
  // Every point reached the page, in order (other tests' vehicles may add events of their own).
  const seqs = await dash.evaluate((v) => window.__realtime.seqs(v), vehicle);
  assert.deepEqual(seqs.slice(-40), Array.from({ length: 40 }, (_, i) => i + 3));
  assert.ok(draws >= 1, `the page drew the new points (${draws} draws)`);
  assert.ok(draws <= Math.ceil(elapsed / 250) + 1, `${draws} draws in ${elapsed} ms: more than one per 250 ms`);
  // The track was broken between the two trips: both charts show trip 2 apart from trip 1.
  const gaps = await dash.evaluate(() => ['fuel-chart', 'distance-chart'].map((id) =>
    document.getElementById(id).data.some((t) => (t.x || []).includes(null))));
  assert.deepEqual(gaps, [true, true]);
  assert.deepEqual(errors, []);
  await dash.close();
});
