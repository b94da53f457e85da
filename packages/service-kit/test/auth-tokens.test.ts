import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { SignJWT, base64url } from 'jose';
import { pino } from 'pino';
import {
  createServiceApp,
  createVerifier,
  generateSigningKey,
  openPGlite,
  TokenIssuer,
  type AuthConfig,
  type Database,
  type Principal,
} from '../src/index.js';
import { assertProblem } from '../testing/index.js';

const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'shiftops';
const employee: Principal = {
  userId: '11111111-1111-4111-8111-111111111111',
  role: 'employee',
  locations: [2],
};

const enabled = (keys: Extract<AuthConfig, { mode: 'enabled' }>['keys']) =>
  ({
    mode: 'enabled',
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    clockToleranceS: 30,
    claimPrefix: '',
  }) as const;

/** The real app with one /v1/ route that echoes the principal it was given. */
async function appWith(
  db: Database,
  auth: AuthConfig,
  options: { cooldownMs?: number; logs?: string[] } = {},
): Promise<FastifyInstance> {
  const logs = options.logs;
  const logger = logs
    ? pino(
        { level: 'trace' },
        new Writable({
          write(chunk: Buffer, _enc, done) {
            logs.push(chunk.toString());
            done();
          },
        }),
      )
    : pino({ level: 'silent' });
  const app = await createServiceApp({
    config: {
      service: { name: 'authtest', version: '0' },
      bodyLimitBytes: 65_536,
      gitCommit: 't',
      auth,
    },
    db,
    logger,
    description: 'auth test',
    routes: async (a) => {
      a.get('/v1/me', async (request) => request.principal);
    },
    ...(auth.mode === 'enabled' && options.cooldownMs !== undefined
      ? { verifier: createVerifier(auth, { cooldownMs: options.cooldownMs }) }
      : {}),
  });
  await app.ready();
  return app;
}

const me = (app: FastifyInstance, token?: string) =>
  app.inject({
    url: '/v1/me',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

/** A JWKS endpoint on 127.0.0.1 that counts its requests and can be switched off. */
async function jwksServer(issuer: TokenIssuer) {
  const state = { hits: 0, up: true };
  const server: Server = createServer((_req, res) => {
    state.hits++;
    if (!state.up) {
      res.destroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(issuer.jwks()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  return { state, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let db: Database;
before(async () => {
  db = await openPGlite();
});
after(() => db.close());

describe('bearer tokens against a local JWKS', () => {
  let issuer: TokenIssuer;
  let app: FastifyInstance;
  before(async () => {
    issuer = await TokenIssuer.create(ISSUER, AUDIENCE);
    app = await appWith(db, enabled({ kind: 'local', jwks: issuer.jwks() }));
  });
  after(() => app.close());

  test('a valid token reaches the route with its principal', async () => {
    const res = await me(app, await issuer.token(employee));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), employee);
  });

  test('no token: 401 problem with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const res = await me(app);
    assertProblem(res, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="shiftops"');
  });

  test('another scheme: 401 invalid_request', async () => {
    const res = await app.inject({
      url: '/v1/me',
      headers: { authorization: 'Basic dXNlcjpwdw==' },
    });
    assertProblem(res, 401);
    assert.match(
      String(res.headers['www-authenticate']),
      /^Bearer realm="shiftops", error="invalid_request"/,
    );
  });

  const cases: [string, () => Promise<string>, RegExp][] = [
    ['garbage', async () => 'not.a.jwt', /malformed/],
    ['expired beyond the clock skew', () => issuer.token(employee, { ttlS: -60 }), /expired/],
    [
      'not yet valid beyond the clock skew',
      () => issuer.token(employee, { notBeforeS: 120 }),
      /not valid yet/,
    ],
    [
      'from another issuer',
      () => issuer.token(employee, { issuer: 'https://evil.example/' }),
      /another issuer/,
    ],
    [
      'for another audience',
      () => issuer.token(employee, { audience: 'billing' }),
      /another audience/,
    ],
    [
      'signed by another key under a known kid',
      async () => {
        const other = await generateSigningKey();
        return issuer.token(employee, { key: { ...other, kid: issuer.currentKey.kid } });
      },
      /signature is invalid/,
    ],
    [
      'with alg none',
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
        const now = Math.floor(Date.now() / 1000);
        const body = base64url.encode(
          JSON.stringify({
            sub: employee.userId,
            role: 'admin',
            iss: ISSUER,
            aud: AUDIENCE,
            exp: now + 600,
          }),
        );
        return `${header}.${body}.`;
      },
      /not allowed|malformed/,
    ],
    [
      'HS256 with the public key as the secret (algorithm confusion)',
      async () =>
        new SignJWT({ role: 'admin' })
          .setProtectedHeader({ alg: 'HS256', kid: issuer.currentKey.kid })
          .setSubject(employee.userId)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('10m')
          .sign(new TextEncoder().encode(JSON.stringify(issuer.currentKey.publicJwk))),
      /not allowed/,
    ],
    [
      'signed with an unknown kid',
      async () => issuer.token(employee, { key: await generateSigningKey() }),
      /unknown key/,
    ],
    [
      'without exp',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ role: 'employee' })
          .setProtectedHeader({ alg: 'RS256', kid: issuer.currentKey.kid })
          .setSubject(employee.userId)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt(now)
          .sign(issuer.currentKey.privateKey);
      },
      /exp/,
    ],
  ];
  for (const [label, make, reason] of cases) {
    test(`a token ${label} is a 401 invalid_token that says why`, async () => {
      const res = await me(app, await make());
      assertProblem(res, 401);
      const challenge = String(res.headers['www-authenticate']);
      assert.match(
        challenge,
        /^Bearer realm="shiftops", error="invalid_token", error_description="/,
      );
      assert.match(res.json().detail, reason);
    });
  }

  test('within the 30 s clock skew, just expired and not-quite-valid tokens pass', async () => {
    assert.equal((await me(app, await issuer.token(employee, { ttlS: -10 }))).statusCode, 200);
    assert.equal((await me(app, await issuer.token(employee, { notBeforeS: 10 }))).statusCode, 200);
  });

  test('a valid token whose claims name no role is a 403 insufficient_scope', async () => {
    const res = await me(app, await issuer.token(employee, { claims: { role: 'owner' } }));
    assertProblem(res, 403);
    assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope"/);
  });

  test('the operations endpoints (own port) and the OpenAPI document need no token', async () => {
    assert.equal((await app.ops.inject('/livez')).statusCode, 200);
    assert.equal((await app.inject('/openapi.json')).statusCode, 200);
  });

  test('the OpenAPI document declares the bearer scheme', async () => {
    const doc = (await app.inject('/openapi.json')).json();
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: doc.components.securitySchemes.bearerAuth.description,
    });
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  });
});

test('no token contents reach the logs, even at trace level', async () => {
  const issuer = await TokenIssuer.create(ISSUER, AUDIENCE);
  const logs: string[] = [];
  const app = await appWith(db, enabled({ kind: 'local', jwks: issuer.jwks() }), { logs });
  const good = await issuer.token(employee);
  const bad = await issuer.token(employee, { ttlS: -3600 });
  assert.equal((await me(app, good)).statusCode, 200);
  assert.equal((await me(app, bad)).statusCode, 401);
  await app.close();
  const text = logs.join('');
  assert.ok(text.includes('/v1/me'), 'the requests were logged');
  for (const token of [good, bad]) {
    for (const part of token.split('.'))
      assert.ok(!text.includes(part), 'a token part is in the logs');
  }
  assert.ok(!text.includes(employee.userId), 'no claim values in the logs');
});

/**
 * Runs a test against an app that verifies a new issuer's tokens with its JWKS served on
 * 127.0.0.1 (kept cacheMaxAgeS seconds, refetched at most once per cooldownMs); closes both after.
 */
async function withRemoteJwks(
  keys: { cooldownMs: number; cacheMaxAgeS?: number },
  run: (s: {
    issuer: TokenIssuer;
    jwks: Awaited<ReturnType<typeof jwksServer>>;
    app: FastifyInstance;
  }) => Promise<void>,
): Promise<void> {
  const issuer = await TokenIssuer.create(ISSUER, AUDIENCE);
  const jwks = await jwksServer(issuer);
  const auth = enabled({ kind: 'remote', url: jwks.url, cacheMaxAgeS: keys.cacheMaxAgeS ?? 600 });
  const app = await appWith(db, auth, { cooldownMs: keys.cooldownMs });
  try {
    await run({ issuer, jwks, app });
  } finally {
    await app.close();
    await jwks.close();
  }
}

describe('bearer tokens against a remote JWKS', () => {
  test('an unknown kid triggers exactly one JWKS refresh for many requests, then the cooldown holds', async () => {
    // The cooldown outlasts the 30 requests below even on a busy machine.
    await withRemoteJwks({ cooldownMs: 3000 }, async ({ issuer, jwks, app }) => {
      assert.equal((await me(app, await issuer.token(employee))).statusCode, 200);
      assert.equal(jwks.state.hits, 1, 'keys fetched once');
      await sleep(3100);
      const stranger = await issuer.token(employee, { key: await generateSigningKey() });
      const results = await Promise.all(Array.from({ length: 20 }, () => me(app, stranger)));
      for (let i = 0; i < 10; i++) results.push(await me(app, stranger));
      assert.deepEqual(new Set(results.map((r) => r.statusCode)), new Set([401]));
      assert.equal(jwks.state.hits, 2, 'one refresh for 30 requests with an unknown kid');
      assert.equal((await me(app, await issuer.token(employee))).statusCode, 200);
    });
  });

  test('key rotation: a new kid is fetched once, old tokens work while their key is published, not after', async () => {
    await withRemoteJwks({ cooldownMs: 200 }, async ({ issuer, jwks, app }) => {
      const old = await issuer.token(employee);
      assert.equal((await me(app, old)).statusCode, 200);
      assert.equal(jwks.state.hits, 1);
      await sleep(250);
      await issuer.rotate({ keep: true });
      const fresh = await issuer.token(employee);
      const burst = await Promise.all(Array.from({ length: 20 }, () => me(app, fresh)));
      assert.deepEqual(new Set(burst.map((r) => r.statusCode)), new Set([200]));
      assert.equal(jwks.state.hits, 2, 'one refresh for 20 concurrent requests with the new kid');
      assert.equal((await me(app, old)).statusCode, 200, 'the old key is still published');

      await sleep(250);
      await issuer.rotate({ keep: false });
      const newest = await issuer.token(employee);
      assert.equal((await me(app, newest)).statusCode, 200);
      assert.equal(jwks.state.hits, 3);
      const res = await me(app, old);
      assertProblem(res, 401);
      assert.match(res.json().detail, /unknown key/);
    });
  });

  test('JWKS unreachable with no keys cached: 503 problem + Retry-After, /readyz says why; then recovers', async () => {
    await withRemoteJwks({ cooldownMs: 200 }, async ({ issuer, jwks, app }) => {
      assert.equal(jwks.state.hits, 0, 'nothing fetched before the first request');
      jwks.state.up = false;
      const token = await issuer.token(employee);
      const res = await me(app, token);
      assertProblem(res, 503);
      assert.ok(Number(res.headers['retry-after']) > 0);
      const ready = await app.ops.inject('/readyz');
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.json().status, 'token keys unavailable');
      assert.match(ready.json().detail, /JWKS http:\/\/127\.0\.0\.1:\d+\/jwks\.json unreachable/);

      jwks.state.up = true;
      await sleep(250);
      assert.equal((await app.ops.inject('/readyz')).statusCode, 200);
      assert.equal((await me(app, token)).statusCode, 200);
    });
  });

  test('JWKS unreachable with keys cached: tokens keep verifying after the cache has aged', async () => {
    // The cache is stale 100 ms after a fetch: every request past that wants a refetch.
    await withRemoteJwks({ cooldownMs: 50, cacheMaxAgeS: 0.1 }, async ({ issuer, jwks, app }) => {
      const token = await issuer.token(employee);
      assert.equal((await me(app, token)).statusCode, 200);
      jwks.state.up = false;
      await sleep(150);
      for (let i = 0; i < 3; i++) {
        assert.equal((await me(app, token)).statusCode, 200);
        await sleep(60);
      }
      assert.ok(jwks.state.hits >= 2, 'it did try to refetch');
      assert.equal((await app.ops.inject('/readyz')).statusCode, 200, 'cached keys: still ready');
    });
  });
});

test('AUTH=disabled: every caller is an administrator and the document declares no security', async () => {
  const app = await appWith(db, { mode: 'disabled' });
  const res = await me(app);
  assert.equal(res.statusCode, 200);
  assert.equal(res.json().role, 'admin');
  assert.deepEqual((await app.inject('/openapi.json')).json().security, []);
  await app.close();
});
