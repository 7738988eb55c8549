// Browser test of `fleetpipe console` in headless Chromium (playwright-core, Debian's /usr/bin/chromium):
// every page against the running stack, a screenshot of each in build/screenshots/, the live overview
// updating over SSE, a message tail with a row we write, and the run-now form refused with a wrong operator
// token and accepted with the right one. No page may log an error or load anything from another origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root, shots, psql, startService, stopServices, launchChromium } from './support.mjs';

const vehicle = 990301; // ids at the top of the range are reserved for tests
const token = `browser-${process.pid}-${Date.now()}`;
const dbtDir = mkdtempSync(path.join(os.tmpdir(), 'console-dbt-'));

function cleanup() {
  psql(`DELETE FROM trips WHERE vehicle_id = ${vehicle}; DELETE FROM vehicles WHERE id = ${vehicle};
        DELETE FROM drivers WHERE id = ${vehicle};`);
  psql(`DELETE FROM ops.run_requests WHERE requested_by = 'console'`, { warehouse: true });
}

let browser;
let consoleSvc;

before(async () => {
  cleanup();
  psql(`INSERT INTO drivers (id, name, license_number) VALUES (${vehicle}, 'Console Test', 'CONSOLE-1');
        INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color)
        VALUES (${vehicle}, ${vehicle}, 'Ford', 'Transit', 30, 'teal');
        INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
          fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
        VALUES (${vehicle}, 1, 1, '2024-04-17 08:00:00', 49.25, -123.1, 30, 10, 90, 27, 'teal');`);
  // The other UIs are pointed at a port where nothing listens, so the overview is the same on every machine.
  const nowhere = 'http://127.0.0.1:1/';
  consoleSvc = await startService('console', ['--static-dir', path.join(root, 'web/console'),
    '--dbt-target', dbtDir, '--refresh-ms', '1000', '--webapp-url', nowhere, '--realtime-url', nowhere,
    '--scheduler-url', nowhere, '--pgadmin-url', nowhere],
  { portArgs: (port) => ['--listen', `127.0.0.1:${port}`], env: { FLEETPIPE_CONSOLE_TOKEN: token } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopServices();
  cleanup();
  rmSync(dbtDir, { recursive: true, force: true });
});

// A page that fails the test on script errors, CSP violations or requests to another origin.
async function watchedPage() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('request', (r) => { if (!r.url().startsWith(consoleSvc.base)) page.problems.push(`offsite ${r.url()}`); });
  page.on('dialog', () => page.problems.push('a dialog opened'));
  return page;
}

async function visit(page, url, shot, status = 200) {
  const resp = await page.goto(`${consoleSvc.base}${url}`);
  assert.equal(resp.status(), status, `${url}: ${await page.content()}`);
  await page.screenshot({ path: path.join(shots, `console-${shot}.png`), fullPage: true });
}

test('overview: every part listed and the panels refresh live over SSE', async () => {
  const page = await watchedPage();
  await visit(page, '/', 'overview');
  assert.equal(await page.locator('h1').innerText(), 'Pipeline overview');
  for (const part of ['postgres-webapp', 'postgres-warehouse', 's3proxy', 'kafka', 'kafka-connect', 'supervisor']) {
    assert.match(await page.locator(`tr[data-part="${part}"]`).innerText(), /healthy/, part);
  }
  // The supervisor's restart count per part.
  assert.equal(await page.locator('section[aria-labelledby="parts-title"] th', { hasText: 'Restarts' }).count(), 1);
  assert.match(await page.locator('tr[data-service="webapp"]').innerText(), /not running/);
  await page.waitForFunction(() => Number(document.querySelector('#overview-live').dataset.updates || 0) >= 2,
    null, { timeout: 15000 });
  assert.equal(await page.locator('a[aria-current="page"]').innerText(), 'Overview');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('topics, a message tail with the row we wrote, consumer groups', async () => {
  const page = await watchedPage();
  await visit(page, '/topics', 'topics');
  const row = page.locator('tr[data-topic="webapp.public.trips"]');
  assert.equal(await row.count(), 1);
  // Debezium carries our row to the topic; the tail shows it, pretty-printed.
  const topics = await (await fetch(`${consoleSvc.base}/api/topics`)).json();
  const partitions = topics.topics.find((t) => t.name === 'webapp.public.trips').partitions;
  let found = false;
  for (let i = 0; i < 60 && !found; i++) {
    for (let p = 0; p < partitions && !found; p++) {
      await page.goto(`${consoleSvc.base}/topics/webapp.public.trips?partition=${p}&n=50`);
      found = (await page.locator('pre.value', { hasText: `"vehicle_id": ${vehicle}` }).count()) > 0;
    }
    if (!found) await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(found, 'our row in the tail of webapp.public.trips');
  await page.screenshot({ path: path.join(shots, 'console-topic-tail.png'), fullPage: false });
  await visit(page, '/groups', 'groups');
  assert.equal(await page.locator('h1').innerText(), 'Consumer groups');
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('CDC: the connector runs, the slot has a lag, restart needs the token', async () => {
  const page = await watchedPage();
  await visit(page, '/cdc', 'cdc');
  const connector = page.locator('[data-connector="webapp-cdc"]');
  assert.match(await connector.locator('h3').innerText(), /RUNNING/);
  assert.match(await page.locator('tr[data-slot="webapp_cdc"] .slot-lag').innerText(), /^[\d,]+$/);
  await connector.locator('input[name="operator_token"]').fill('wrong-token');
  const [resp] = await Promise.all([page.waitForNavigation(), connector.locator('button').click()]);
  assert.equal(resp.status(), 403);
  assert.match(await page.locator('main').innerText(), /operator token is wrong/);
  await page.screenshot({ path: path.join(shots, 'console-cdc-refused.png') });
  // Chromium logs the refusal's status; that one is expected.
  assert.deepEqual(page.problems.filter((p) => !/status of 403/.test(p)), []);
  await page.close();
});

test('batch lane: panels render, run now is refused with a wrong token and queued with the right one', async () => {
  const page = await watchedPage();
  await visit(page, '/batch', 'batch');
  assert.equal(await page.locator('#export .panel-error').count(), 0, await page.locator('#export').innerText());
  // Freshness has its card (its state depends on the builds this warehouse has seen) and the whole-table
  // tests their own button.
  assert.equal(await page.locator('#freshness [data-freshness]').count(), 1);
  assert.equal(await page.locator('form[action="/batch/run-full-tests"] button').count(), 1);
  const form = page.locator('form[action="/batch/run-now"]');
  await form.locator('input[name="operator_token"]').fill('wrong');
  let [resp] = await Promise.all([page.waitForNavigation(), form.locator('button').click()]);
  assert.equal(resp.status(), 403);
  assert.equal(psql(`SELECT count(*) FROM ops.run_requests WHERE requested_by = 'console'`, { warehouse: true }).trim(), '0');
  await page.goto(`${consoleSvc.base}/batch`);
  await page.locator('form[action="/batch/run-now"] input[name="operator_token"]').fill(token);
  [resp] = await Promise.all([page.waitForNavigation(), page.locator('form[action="/batch/run-now"] button').click()]);
  assert.equal(resp.status(), 200);
  assert.match(await page.locator('.notice-ok').innerText(), /Run request \d+ sent to the scheduler/);
  assert.equal(psql(`SELECT count(*) FROM ops.run_requests WHERE requested_by = 'console'`, { warehouse: true }).trim(), '1');
  assert.match(await page.locator('[data-open-requests]').innerText(), /1 request\(s\) waiting/);
  // With whole-table tests: the same request, marked.
  await page.locator('form[action="/batch/run-full-tests"] input[name="operator_token"]').fill(token);
  [resp] = await Promise.all([page.waitForNavigation(), page.locator('form[action="/batch/run-full-tests"] button').click()]);
  assert.equal(resp.status(), 200);
  assert.equal(psql(`SELECT count(*) FROM ops.run_requests WHERE requested_by = 'console' AND full_tests`, { warehouse: true }).trim(), '1');
  await page.screenshot({ path: path.join(shots, 'console-batch-requested.png'), fullPage: true });
  assert.deepEqual(page.problems.filter((p) => !/status of 403/.test(p)), []); // the refusal above
  assert.equal(page.problems.length, 1);
  await page.close();
});

test('dbt docs: how to generate them while absent', async () => {
  const page = await watchedPage();
  const resp = await page.goto(`${consoleSvc.base}/dbt/`);
  assert.equal(resp.status(), 404);
  assert.match(await page.locator('main').innerText(), /dbt docs generate/);
  await page.screenshot({ path: path.join(shots, 'console-dbt-missing.png'), fullPage: true });
  assert.deepEqual(page.problems.filter((p) => !/404/.test(p)), []);
  await page.close();
});
