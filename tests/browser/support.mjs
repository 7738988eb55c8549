// Shared pieces of the browser tests: where things are, the stack's database environment for psql, free
// ports, starting build/fleetpipe services and waiting for their /healthz, and launching Debian's headless
// Chromium through playwright-core. (Not a test file: node --test runs only *.test.mjs.)
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const shots = path.join(root, 'build/screenshots');
mkdirSync(shots, { recursive: true });

// A secret from the environment, else from the state directory's generated credentials.env.
export function secret(name) {
  if (process.env[name]) return process.env[name];
  const stateDir = process.env.FLEETPIPE_STATE_DIR || path.join(root, 'var');
  const creds = path.join(stateDir, 'credentials.env');
  if (!existsSync(creds)) return '';
  const line = readFileSync(creds, 'utf8').split('\n').find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).replace(/^['"]|['"]$/g, '') ?? '';
}

// libpq's environment for the webapp database (or the warehouse with warehouse = true).
export function pgEnv({ warehouse = false } = {}) {
  const p = warehouse ? 'DW_POSTGRES_' : 'POSTGRES_';
  return {
    ...process.env,
    PGHOST: process.env[`${p}HOST`] || 'localhost',
    PGPORT: process.env[`${p}PORT`] || (warehouse ? '5434' : '5433'),
    PGDATABASE: process.env[`${p}DB`] || (warehouse ? 'warehouse' : 'webapp'),
    PGUSER: process.env[`${p}USER`] || 'fleetpipe',
    PGPASSWORD: secret(`${p}PASSWORD`),
  };
}

export function psql(sql, options = {}) {
  return execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { env: pgEnv(options), cwd: root })
    .toString();
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const services = [];

// Starts `build/fleetpipe <name> <portArgs(port)> ...args` on a free port and waits for /healthz.
export async function startService(name, args = [], { portArgs = (port) => ['--port', String(port)], env = {} } = {}) {
  const port = await freePort();
  const proc = spawn(path.join(root, 'build/fleetpipe'), [name, ...portArgs(port), ...args],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const svc = { proc, log: '', port, base: `http://127.0.0.1:${port}` };
  proc.stdout.on('data', (d) => { svc.log += d; });
  proc.stderr.on('data', (d) => { svc.log += d; });
  services.push(svc);
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${svc.base}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    assert.ok(i < 200, `${name} did not become healthy:\n${svc.log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return svc;
}

// `fleetpipe realtime` in a consumer group of its own that starts at the topics' end (its state comes from
// the database), so a test sees its own changes and no other test's backlog.
export function startRealtime(label) {
  return startService('realtime', ['--group', `realtime-${label}-${process.pid}-${Date.now()}`, '--new-group-from-end']);
}

// SIGTERM to every service started here; resolves when they have exited.
export async function stopServices() {
  await Promise.all(services.splice(0).map((s) => {
    if (s.proc.exitCode !== null) return Promise.resolve();
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    return exited;
  }));
}

export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}
