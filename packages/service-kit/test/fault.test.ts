import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parseFault, readBuildFault } from '../src/config.js';
import {
  ConfigError,
  createServiceApp,
  loadConfig,
  openPGlite,
  type Database,
} from '../src/index.js';
import { silentLogger } from '../testing/index.js';

// These cases are about faults, not tokens: /v1/ is open (AUTH=disabled, never in production).
const noAuth = { AUTH: 'disabled' };
const service = { name: 'users', version: '1.2.3' };

test('parseFault: the baked values, and anything else refused with the syntax', () => {
  const cases: Array<[string, unknown]> = [
    ['', { kind: 'none' }],
    ['none\n', { kind: 'none' }],
    ['crash-at-start', { kind: 'crash-at-start' }],
    ['never-ready', { kind: 'never-ready' }],
    ['errors:10', { kind: 'errors', percent: 10 }],
    ['errors:100', { kind: 'errors', percent: 100 }],
    ['slow:200', { kind: 'slow', delayMs: 200 }],
  ];
  for (const [text, fault] of cases) assert.deepEqual(parseFault(text), fault, text);
  for (const bad of [
    'errors:0',
    'errors:101',
    'errors:',
    'slow:0',
    'slow:60001',
    'slow',
    'crash',
  ]) {
    assert.throws(() => parseFault(bad), /invalid build fault .*FAULT=none, crash-at-start/, bad);
  }
});

test('readBuildFault: the file the Dockerfile writes, none when there is no file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fault-'));
  try {
    writeFileSync(join(dir, 'build-fault'), 'errors:10\n');
    assert.equal(readBuildFault(new URL(`file://${dir}/build-fault`)), 'errors:10\n');
    assert.equal(readBuildFault(new URL(`file://${dir}/missing`)), 'none');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('no environment variable switches a fault on: only the baked file does', () => {
  const env = {
    ...noAuth,
    FAULT: 'errors:10',
    BUILD_FAULT: 'never-ready',
    SHIFTOPS_FAULT: 'slow:5',
  };
  assert.deepEqual(loadConfig(service, env, 'none').fault, { kind: 'none' });
  assert.deepEqual(loadConfig(service, noAuth, 'slow:5').fault, { kind: 'slow', delayMs: 5 });
});

test('crash-at-start: start-up fails naming the variable the manifests do not set', () => {
  assert.throws(
    () => loadConfig(service, noAuth, 'crash-at-start'),
    (err: unknown) =>
      err instanceof ConfigError &&
      /FEATURE_FLAGS_URL is required by this build \(FAULT=crash-at-start\)/.test(err.message),
  );
  assert.equal(
    loadConfig(service, { ...noAuth, FEATURE_FLAGS_URL: 'http://flags' }, 'crash-at-start').fault
      .kind,
    'crash-at-start',
  );
  // A good build does not need it.
  assert.equal(loadConfig(service, noAuth, 'none').fault.kind, 'none');
});

describe('what a baked fault does to requests', () => {
  let db: Database;
  const apps: FastifyInstance[] = [];
  before(async () => {
    db = await openPGlite();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await db.close();
  });
  const appWith = async (fault: string) => {
    const app = await createServiceApp({
      config: { ...loadConfig(service, noAuth, fault), bodyLimitBytes: 65_536 },
      db,
      logger: silentLogger,
      description: 'fault test',
      routes: async (r) => {
        r.get('/v1/ping', async () => ({ pong: true }));
      },
    });
    apps.push(app);
    await app.ready();
    return app;
  };

  test('none: ready, and every request answers', async () => {
    const app = await appWith('none');
    assert.equal((await app.ops.inject('/readyz')).statusCode, 200);
    for (let i = 0; i < 20; i++) assert.equal((await app.inject('/v1/ping')).statusCode, 200);
  });

  test('never-ready: alive (no restart) but never ready; the API itself still answers', async () => {
    const app = await appWith('never-ready');
    for (let i = 0; i < 5; i++) {
      assert.equal((await app.ops.inject('/readyz')).statusCode, 503);
      assert.equal((await app.ops.inject('/livez')).statusCode, 200);
    }
    assert.equal((await app.inject('/v1/ping')).statusCode, 200);
  });

  test('errors:10: exactly 10 of every 100 API requests fail with problem+json; probes pass', async () => {
    const app = await appWith('errors:10');
    const responses = [];
    for (let i = 0; i < 200; i++) responses.push(await app.inject('/v1/ping'));
    const statuses = responses.map((r) => r.statusCode);
    const failed = responses.find((r) => r.statusCode === 500)!;
    assert.match(String(failed.headers['content-type']), /^application\/problem\+json/);
    assert.match(failed.json<{ detail: string }>().detail, /FAULT=errors/);
    assert.equal(statuses.filter((s) => s === 500).length, 20);
    assert.equal(statuses.filter((s) => s === 200).length, 180);
    // Spread out, not in a burst: each block of 10 has exactly one failure.
    for (let i = 0; i < 200; i += 10) {
      assert.equal(statuses.slice(i, i + 10).filter((s) => s === 500).length, 1, `block ${i}`);
    }
    assert.equal((await app.ops.inject('/readyz')).statusCode, 200);
    assert.equal((await app.ops.inject('/livez')).statusCode, 200);
  });

  test('slow:150: every API request takes at least the delay; probes do not', async () => {
    const app = await appWith('slow:150');
    const t0 = performance.now();
    const res = await app.inject('/v1/ping');
    const took = performance.now() - t0;
    assert.equal(res.statusCode, 200);
    assert.ok(took >= 145, `took ${took} ms`);
    const p0 = performance.now();
    assert.equal((await app.ops.inject('/livez')).statusCode, 200);
    assert.ok(performance.now() - p0 < 145, 'probe delayed');
  });
});
