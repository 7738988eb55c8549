// Browser test of `fleetpipe webapp` in headless Chromium (playwright-core, Debian's /usr/bin/chromium).
// Starts build/fleetpipe webapp on a free port against the running stack's webapp database (configuration
// from the environment, as every fleetpipe command), in a scratch schema built by the real migrations so the
// application's tables are never touched. Screenshots go to build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { root, shots, pgEnv, psql, startService, stopServices, launchChromium } from './support.mjs';

const schema = `fp_browser_${process.pid}`;
const appRole = process.env.FLEETPIPE_APP_DB_USER || 'fleetpipe_app';

let browser;
let base;

before(async () => {
  const migrations = ['001_core_tables.sql', '002_latest_locations.sql', '005_vehicle_latest_index.sql']
    .map((m) => `\\i sql/webapp/${m}`).join('\n');
  execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q'], {
    env: pgEnv(), cwd: root,
    input: `CREATE SCHEMA ${schema}; SET search_path = ${schema};\n${migrations}\n` +
      `INSERT INTO drivers VALUES (1, 'Ada Lovelace', 'L-1', now()), (2, 'Bo Diddley', 'L-2', now());
       INSERT INTO vehicles VALUES (4, 1, 'Ford', 'Transit', 30, 'yellow', now()),
                                   (5, 2, 'Volvo', 'FH16', 50, 'green', now());
       INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
                          fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
       VALUES (5, 1, 120, '2024-04-15 20:45:03', 41.1313444054, -136.5522584619, 50, 2000, 86, 43, 'green'),
              (4, 1, 160, '2024-04-16 00:05:03', 58.2356368075, -64.0038619396, 30, 2000, 33, 10, 'yellow');
       -- The web app logs in as its own role (sql/grants/webapp.sql); in this copy trip_latest's triggers run
       -- as the caller, so it writes that table too.
       GRANT USAGE ON SCHEMA ${schema} TO ${appRole};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${appRole};
       GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${appRole};`,
  });
  const server = await startService('webapp',
    ['--schema', schema, '--static-dir', path.join(root, 'web/webapp')]);
  base = server.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServices();
  psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

async function fill(page, values) {
  for (const [name, value] of Object.entries(values)) await page.fill(`input[name="${name}"]`, value);
}

const validTrip = {
  vehicle_id: '4', trip_id: '2', measurement_sequence: '3', measurement_time: '2024-04-17 08:15:00',
  latitude: '56.9268048001', longitude: '-117.25', fuel_capacity: '30', distance_traveled: '12.5',
  fuel_remaining_percent: '80', fuel_remaining_gallon: '24', color: 'red',
};

test('the latest trips page, then a valid trip lands at the top', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', () => assert.fail('no script may run from submitted values'));
  const first = await page.goto(`${base}/`);
  assert.equal(first.status(), 200);
  assert.equal(await page.locator('h1').innerText(), 'Latest Trips');
  const headers = await page.locator('thead th').allInnerTexts();
  assert.deepEqual(headers, ['Vehicle ID', 'Trip ID', 'Measurement Sequence', 'Measurement Time', 'Latitude',
    'Longitude', 'Fuel Capacity', 'Distance Traveled', 'Fuel Remaining (%)', 'Fuel Remaining (gallon)', 'Color']);
  assert.equal(await page.locator('tbody tr').count(), 2);
  assert.equal(await page.locator('tbody tr').first().locator('td').first().innerText(), '4');

  await fill(page, validTrip);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/');
  const top = await page.locator('tbody tr').first().locator('td').allInnerTexts();
  assert.deepEqual(top.map((s) => s.trim()), ['4', '2', '3', '2024-04-17 08:15:00', '56.9268048001', '-117.25',
    '30', '12.5', '80', '24', 'red']);
  assert.equal(await page.locator('tbody tr').count(), 2, 'one row per vehicle');
  assert.equal(await page.locator('.field.invalid').count(), 0);
  await page.screenshot({ path: path.join(shots, 'webapp-valid.png'), fullPage: true });
  await page.close();
});

test('an invalid trip comes back with every bad field marked, values kept, nothing stored', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  page.on('dialog', () => assert.fail('no script may run from submitted values'));
  await page.goto(`${base}/`);
  const before = psql(`SELECT count(*) FROM ${schema}.trips`).trim();
  await fill(page, {
    ...validTrip, trip_id: '7', measurement_sequence: '0', latitude: '123.4',
    measurement_time: '2024-02-30 10:00', color: '<img src=x onerror=alert(1)>', fuel_remaining_percent: 'lots',
  });
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.equal(response.status(), 400);
  const invalid = await page.locator('.field.invalid input').evaluateAll((els) => els.map((e) => e.name));
  assert.deepEqual(invalid, ['measurement_sequence', 'measurement_time', 'latitude', 'fuel_remaining_percent',
    'color']);
  assert.match(await page.locator('#e-latitude').innerText(), /between -90 and 90/);
  assert.match(await page.locator('#e-measurement_sequence').innerText(), /at least 1/);
  assert.equal(await page.inputValue('input[name="color"]'), '<img src=x onerror=alert(1)>');
  assert.equal(await page.inputValue('input[name="latitude"]'), '123.4');
  assert.equal(await page.locator('img').count(), 0);
  assert.match(await page.locator('.alert').innerText(), /5 fields need attention/);
  assert.equal(psql(`SELECT count(*) FROM ${schema}.trips`).trim(), before);
  await page.screenshot({ path: path.join(shots, 'webapp-invalid.png'), fullPage: true });

  // Fixing the fields and resubmitting the same form works (the CSRF token survived the round trip).
  await fill(page, validTrip);
  await page.fill('input[name="trip_id"]', '7');
  await page.fill('input[name="measurement_sequence"]', '1');
  const [ok] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  assert.equal(ok.status(), 200);
  assert.equal((await page.locator('tbody tr').first().locator('td').nth(1).innerText()).trim(), '7');
  await page.close();
});
