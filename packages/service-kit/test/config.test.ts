import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/index.js';

const service = { name: 'users', version: '1.2.3' };
// These cases are about other variables; the AUTH_* cases below set their own.
const noAuth = { AUTH: 'disabled' };

test('defaults: embedded database under .data/<service>, demo data on, port 8080', () => {
  const c = loadConfig(service, { ...noAuth });
  assert.deepEqual(c.database, { kind: 'pglite', dataDir: '.data/users' });
  assert.equal(c.port, 8080);
  assert.equal(c.seedDemoData, true);
  assert.equal(c.drainDelayMs, 5000);
  assert.equal(c.service.version, '1.2.3');
  assert.ok(Object.isFrozen(c));
});

test('DATABASE_URL selects PostgreSQL and turns demo data off unless asked for', () => {
  const c = loadConfig(service, {
    ...noAuth,
    DATABASE_URL: 'postgres://u:p@db:5432/app',
    DB_POOL_MAX: '20',
  });
  assert.deepEqual(c.database, {
    kind: 'postgres',
    url: 'postgres://u:p@db:5432/app',
    poolMax: 20,
    statementTimeoutMs: 5000,
  });
  assert.equal(c.seedDemoData, false);
  assert.equal(
    loadConfig(service, { ...noAuth, DATABASE_URL: 'postgresql://db/app', DEMO_DATA: 'true' })
      .seedDemoData,
    true,
  );
});

test('values are converted: integers, booleans, APP_VERSION overrides the package version', () => {
  const c = loadConfig(service, {
    ...noAuth,
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
        ...noAuth,
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

const publicJwks = JSON.stringify({
  keys: [{ kty: 'RSA', kid: 'k1', n: 'AQAB', e: 'AQAB', alg: 'RS256', use: 'sig' }],
});
const issuerEnv = { AUTH_ISSUER: 'https://idp.example.com/', AUTH_AUDIENCE: 'shiftops' };

test('authentication is on by default and refuses to start without an issuer', () => {
  assert.throws(
    () => loadConfig(service, {}),
    (err: unknown) =>
      err instanceof ConfigError &&
      /AUTH_ISSUER is required; AUTH_AUDIENCE is required; set exactly one of AUTH_JWKS_URL/.test(
        err.message,
      ) &&
      /docs\/access\.md/.test(err.message),
  );
});

test('AUTH=disabled is refused under NODE_ENV=production, allowed elsewhere', () => {
  assert.throws(
    () => loadConfig(service, { AUTH: 'disabled', NODE_ENV: 'production' }),
    /AUTH=disabled is refused under NODE_ENV=production/,
  );
  assert.deepEqual(loadConfig(service, { AUTH: 'disabled' }).auth, { mode: 'disabled' });
});

test('a JWKS URL: remote keys with the cache age; the clock skew and claim prefix are read', () => {
  const c = loadConfig(service, {
    ...issuerEnv,
    AUTH_JWKS_URL: 'https://idp.example.com/jwks',
    AUTH_CLOCK_TOLERANCE_S: '10',
    AUTH_CLAIM_PREFIX: 'https://shiftops.dev/',
    NODE_ENV: 'production',
  });
  assert.deepEqual(c.auth, {
    mode: 'enabled',
    issuer: 'https://idp.example.com/',
    audience: 'shiftops',
    keys: { kind: 'remote', url: 'https://idp.example.com/jwks', cacheMaxAgeS: 600 },
    clockToleranceS: 10,
    claimPrefix: 'https://shiftops.dev/',
  });
});

test('inline JWKS and a JWKS file give local keys; two sources, a private key or junk are refused', () => {
  const inline = loadConfig(service, { ...issuerEnv, AUTH_JWKS: publicJwks }).auth;
  assert.deepEqual(inline.mode === 'enabled' && inline.keys, {
    kind: 'local',
    jwks: JSON.parse(publicJwks),
  });
  const dir = mkdtempSync(join(tmpdir(), 'jwks-'));
  writeFileSync(join(dir, 'jwks.json'), publicJwks);
  const file = loadConfig(service, { ...issuerEnv, AUTH_JWKS_FILE: join(dir, 'jwks.json') }).auth;
  assert.deepEqual(file, inline);
  rmSync(dir, { recursive: true });
  for (const [env, message] of [
    [{ AUTH_JWKS: publicJwks, AUTH_JWKS_URL: 'https://x/jwks' }, /exactly one of .* \(got 2\)/],
    [{ AUTH_JWKS: '{"keys": []}' }, /AUTH_JWKS has no keys/],
    [{ AUTH_JWKS: '{nope' }, /AUTH_JWKS is not JSON/],
    [{ AUTH_JWKS: JSON.stringify({ keys: [{ kty: 'RSA', d: 'secret' }] }) }, /private key/],
    [{ AUTH_JWKS_FILE: '/nonexistent/jwks.json' }, /AUTH_JWKS_FILE cannot be read \(ENOENT\)/],
    [{ AUTH_JWKS_URL: 'ftp://x/jwks' }, /AUTH_JWKS_URL="ftp:\/\/x\/jwks"/],
  ] as const) {
    assert.throws(() => loadConfig(service, { ...issuerEnv, ...env }), message);
  }
});
