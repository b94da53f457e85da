import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.js';

const service = { name: 'users', version: '1.2.3' };

test('defaults: embedded database under .data/<service>, demo data on, port 8080', () => {
  const c = loadConfig(service, {});
  assert.deepEqual(c.database, { kind: 'pglite', dataDir: '.data/users' });
  assert.equal(c.port, 8080);
  assert.equal(c.seedDemoData, true);
  assert.equal(c.drainDelayMs, 5000);
  assert.equal(c.service.version, '1.2.3');
  assert.ok(Object.isFrozen(c));
});

test('DATABASE_URL selects PostgreSQL and turns demo data off unless asked for', () => {
  const c = loadConfig(service, { DATABASE_URL: 'postgres://u:p@db:5432/app', DB_POOL_MAX: '20' });
  assert.deepEqual(c.database, {
    kind: 'postgres',
    url: 'postgres://u:p@db:5432/app',
    poolMax: 20,
    statementTimeoutMs: 5000,
  });
  assert.equal(c.seedDemoData, false);
  assert.equal(
    loadConfig(service, { DATABASE_URL: 'postgresql://db/app', DEMO_DATA: 'true' }).seedDemoData,
    true,
  );
});

test('values are converted: integers, booleans, APP_VERSION overrides the package version', () => {
  const c = loadConfig(service, {
    PORT: '9000',
    MIGRATE_ON_START: 'false',
    APP_VERSION: '2.0.0',
    GIT_COMMIT: 'abc123',
  });
  assert.deepEqual(
    [c.port, c.migrateOnStart, c.service.version, c.gitCommit],
    [9000, false, '2.0.0', 'abc123'],
  );
});

test('every invalid variable is named with the fix, and a bad DATABASE_URL is not echoed', () => {
  assert.throws(
    () =>
      loadConfig(service, {
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://root:secret@x/db',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /PORT="eighty" must be integer; set it to a port number/);
      assert.match(err.message, /LOG_LEVEL="loud"/);
      assert.match(err.message, /DATABASE_URL=\(hidden\)/);
      assert.doesNotMatch(err.message, /secret/);
      return true;
    },
  );
});
