// `npm start` as a person runs it (scripts/start.mjs over the built services): DATA_DIR is the
// root of one database directory per service, and logs are JSON unless pretty ones are asked
// for (a terminal gets them by default: that choice is `process.stdout.isTTY`, nothing else).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../packages/service-kit/testing/postgres-server.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const dataRoot = mkdtempSync(join(tmpdir(), 'npm-start-'));
after(() => rmSync(dataRoot, { recursive: true, force: true }));

/** Runs start.mjs until both services are ready, then Ctrl-C; resolves with what it printed. */
async function npmStart(env: Record<string, string>) {
  const [users, shifts, usersOps, shiftsOps] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      USERS_PORT: String(users),
      SHIFTS_PORT: String(shifts),
      USERS_OPS_PORT: String(usersOps),
      SHIFTS_OPS_PORT: String(shiftsOps),
      DATA_DIR: dataRoot,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 180_000;
  while (!out.includes('Ctrl-C stops both')) {
    if (child.exitCode !== null) assert.fail(`npm start exited:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      assert.fail(`npm start not ready in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The printed tokens are the way in: no token is a 401, the manager's sees location 1 only.
  assert.equal((await fetch(`http://127.0.0.1:${users}/v1/users?limit=1`)).status, 401);
  const manager = /export MANAGER=(\S+)/.exec(out)?.[1];
  assert.ok(manager, `no manager token printed:\n${out}`);
  const res = await fetch(`http://127.0.0.1:${users}/v1/users?limit=200`, {
    headers: { authorization: `Bearer ${manager}` },
  });
  assert.equal(res.status, 200);
  const { items } = (await res.json()) as { items: { locationId: number }[] };
  assert.ok(items.length > 0 && items.every((u) => u.locationId === 1));
  assert.equal((await fetch(`http://127.0.0.1:${usersOps}/readyz`)).status, 200);
  child.kill('SIGINT');
  return { code: await exited, out };
}

describe('npm start', () => {
  before(() => {
    const built = spawnSync('npx', ['tsc', '-b'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stdout);
  });

  it('with DATA_DIR, keeps one database directory per service under it', async () => {
    const { code, out } = await npmStart({ LOG_FORMAT: 'pretty' });
    assert.equal(code, 0, out);
    for (const service of ['users', 'shifts']) {
      assert.ok(existsSync(join(dataRoot, service, 'PG_VERSION')), `${service} database: ${out}`);
    }
    // Pretty: "[hh:mm:ss.mmm] INFO: <service> <message>", not JSON.
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: users /m);
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: shifts /m);
    assert.doesNotMatch(out, /^\{"level"/m);
  });

  it('logs JSON, one object a line, when the output is not a terminal', async () => {
    const { code, out } = await npmStart({});
    assert.equal(code, 0, out);
    const logLines = out.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(logLines.length >= 4, out);
    for (const line of logLines) assert.equal(typeof JSON.parse(line).level, 'number');
    assert.ok(logLines.some((l) => JSON.parse(l).service === 'shifts'));
  });

  it('refuses an unknown LOG_FORMAT, naming the values', () => {
    const r = spawnSync(process.execPath, ['scripts/start.mjs'], {
      cwd: repoRoot,
      env: { ...process.env, LOG_FORMAT: 'xml' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 64);
    assert.match(r.stderr, /LOG_FORMAT=xml .* pretty or json/);
  });
});
