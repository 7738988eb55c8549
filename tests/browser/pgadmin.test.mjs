// Browser test of pgAdmin 4 as `fleetpipe up --with-pgadmin` runs it, in headless Chromium (playwright-core,
// Debian's /usr/bin/chromium): log in with the credentials fleetpipe generated (credentials.env or the
// environment), find both registered databases in the object explorer, open each and see it connect through
// the pgpass file (its databases listed, no password asked for). Fails, never skips, when pgAdmin is not up.
// Screenshots go to build/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const shots = path.join(root, 'build/screenshots');
const base = `http://127.0.0.1:${process.env.PGADMIN_PORT || '5050'}`;

// A variable from the environment, else from the state directory's generated credentials.env.
function setting(name, fallback) {
  if (process.env[name]) return process.env[name];
  const creds = path.join(process.env.FLEETPIPE_STATE_DIR || path.join(root, 'var'), 'credentials.env');
  if (existsSync(creds)) {
    const line = readFileSync(creds, 'utf8').split('\n').find((l) => l.startsWith(`${name}=`));
    if (line) return line.slice(name.length + 1).replace(/^['"]|['"]$/g, '');
  }
  return fallback;
}

const email = setting('PGADMIN_DEFAULT_EMAIL', 'admin@fleetpipe.local');
const password = setting('PGADMIN_DEFAULT_PASSWORD', '');
const databases = {
  webapp: process.env.POSTGRES_DB || 'webapp',
  warehouse: process.env.DW_POSTGRES_DB || 'warehouse',
};

let browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  let ping;
  try {
    ping = await fetch(`${base}/misc/ping`, { signal: AbortSignal.timeout(5000) });
  } catch (e) {
    assert.fail(`pgAdmin is not reachable at ${base} (${e.cause?.code || e.message}): ` +
      'start it with `fleetpipe up --with-pgadmin`');
  }
  assert.equal(ping.status, 200, `GET ${base}/misc/ping`);
  assert.equal(await ping.text(), 'PING');
  assert.ok(password, 'PGADMIN_DEFAULT_PASSWORD is neither in the environment nor in credentials.env');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
});

async function login(page, pw) {
  await page.goto(`${base}/`);
  assert.match(new URL(page.url()).pathname, /^\/login/, 'server mode: an anonymous visit lands on the login page');
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', pw);
  await page.click('button[type="submit"]');
}

// A node of the object explorer tree by its exact label.
const treeNode = (page, label) => page.locator('.file-entry .file-name', { hasText: new RegExp(`^${label}$`) });

test('a wrong password is refused', async () => {
  const page = await browser.newPage();
  await login(page, `${password}-wrong`);
  await page.waitForLoadState('networkidle');
  assert.match(new URL(page.url()).pathname, /^\/login/);
  assert.equal(await page.locator('.file-entry').count(), 0, 'no object explorer without a login');
  await page.close();
});

test('log in, both databases are registered, each connects without a password prompt', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const external = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url());
  });
  await login(page, password);
  await page.waitForURL(`${base}/browser/`, { timeout: 60000 });
  await page.getByText(email).first().waitFor({ timeout: 60000 });  // the user menu names the login

  // The "Servers" group holds fleetpipe's two databases.
  const group = treeNode(page, 'Servers');
  await group.waitFor({ timeout: 60000 });
  await group.dblclick();
  for (const name of Object.keys(databases)) await treeNode(page, name).first().waitFor({ timeout: 30000 });

  for (const [server, db] of Object.entries(databases)) {
    await treeNode(page, server).first().dblclick();  // connects: the pgpass file supplies the password
    const dbs = treeNode(page, 'Databases');
    await dbs.first().waitFor({ timeout: 60000 });
    assert.equal(await page.getByText('Connect to Server').count(), 0, `no password dialog for ${server}`);
    await dbs.first().dblclick();
    // The server's database of that name, listed under Databases (the server node has the same label
    // for webapp, so at least two entries).
    await page.waitForFunction(([label, min]) => [...document.querySelectorAll('.file-entry .file-name')]
      .filter((e) => e.textContent === label).length >= min, [db, db === server ? 2 : 1], { timeout: 30000 });
    await page.screenshot({ path: path.join(shots, `pgadmin-${server}.png`) });
    // Collapse this server so the next one's "Databases" node is the only one shown.
    await treeNode(page, server).first().dblclick();
    await page.waitForFunction(() => ![...document.querySelectorAll('.file-entry .file-name')]
      .some((e) => e.textContent === 'Databases'), null, { timeout: 10000 });
  }
  assert.deepEqual(external, [], 'pgAdmin fetched nothing from outside (no upgrade check, no Gravatar)');
  await page.close();
});
