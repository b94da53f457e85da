import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JWTVerifyGetKey } from 'jose';
import { entryExpiry } from '../src/auth/token-cache.js';
import {
  createVerifier,
  generateSigningKey,
  localKeys,
  TokenIssuer,
  type AuthConfig,
  type KeySource,
  type Principal,
} from '../src/index.js';
import { HttpProblem } from '../src/http/problems.js';

const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'shiftops';
const TOLERANCE_S = 30;
const manager: Principal = {
  userId: '22222222-2222-4222-8222-222222222222',
  role: 'manager',
  locations: [3, 4],
};

describe('entryExpiry: the first of exp + tolerance, the age bound and the key set freshness', () => {
  const now = 1_000_000_000_000;
  const cases: [string, [expS: number, tolS: number, maxAgeMs: number, freshMs: number], number][] =
    [
      ['exp + tolerance first', [now / 1000 + 10, 30, 60_000, Infinity], now + 40_000],
      ['tolerance 0', [now / 1000 + 10, 0, 60_000, Infinity], now + 10_000],
      ['age bound first', [now / 1000 + 3600, 30, 60_000, Infinity], now + 60_000],
      ['key set due for a refetch first', [now / 1000 + 3600, 30, 60_000, now + 5000], now + 5000],
      ['already expired beyond the tolerance', [now / 1000 - 31, 30, 60_000, Infinity], now - 1000],
    ];
  for (const [label, [expS, tolS, maxAgeMs, freshMs], expected] of cases) {
    test(label, () => assert.equal(entryExpiry(now, expS, tolS, maxAgeMs, freshMs), expected));
  }
});

/** Local keys whose getKey calls are counted (one per signature verified) and whose version can be bumped. */
function countingKeys(issuer: TokenIssuer) {
  const inner = localKeys(issuer.jwks());
  const state = { verifications: 0, version: 0 };
  const getKey: JWTVerifyGetKey = (header, token) => {
    state.verifications++;
    return inner.getKey(header, token);
  };
  const keys: KeySource = {
    getKey,
    unavailable: inner.unavailable,
    keySet: () => ({ version: state.version, freshUntilMs: Infinity }),
  };
  return { keys, state };
}

async function setup(cache = { maxEntries: 100, maxAgeMs: 60_000 }) {
  const issuer = await TokenIssuer.create(ISSUER, AUDIENCE);
  const { keys, state } = countingKeys(issuer);
  const clock = { ms: Date.now() };
  const config: Extract<AuthConfig, { mode: 'enabled' }> = {
    mode: 'enabled',
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { kind: 'local', jwks: issuer.jwks() },
    clockToleranceS: TOLERANCE_S,
    claimPrefix: '',
  };
  const verifier = createVerifier(config, { keys, cache, now: () => clock.ms });
  const auth = (token: string) => verifier.authenticate(`Bearer ${token}`);
  return { issuer, state, clock, auth, verifier };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof HttpProblem);
  assert.equal(err.status, 401);
  return err.message;
}

describe('verified-token cache', () => {
  test('a token is verified once; later requests get the same principal from the cache', async () => {
    const { issuer, state, auth, verifier } = await setup();
    const token = await issuer.token(manager);
    assert.equal(verifier.cached(`Bearer ${token}`), undefined, 'not verified yet');
    assert.deepEqual(await auth(token), manager);
    assert.deepEqual(await auth(token), manager);
    assert.deepEqual(verifier.cached(`Bearer ${token}`), manager);
    assert.equal(verifier.cached(`Bearer ${token}x`), undefined);
    assert.equal(verifier.cached(undefined), undefined);
    assert.equal(state.verifications, 1);
  });

  test('entries are keyed by the whole Authorization value: another spelling is verified on its own', async () => {
    const { issuer, state, verifier } = await setup();
    const token = await issuer.token(manager);
    assert.deepEqual(await verifier.authenticate(`Bearer ${token}`), manager);
    assert.equal(verifier.cached(token), undefined, 'the bare token is not the cached header');
    assert.equal(verifier.cached(`bearer ${token}`), undefined);
    assert.deepEqual(await verifier.authenticate(`bearer  ${token}`), manager);
    assert.equal(state.verifications, 2, 'the second spelling was verified');
    assert.deepEqual(verifier.cached(`bearer  ${token}`), manager);
    const message = await refusal(verifier.authenticate(`Bearer ${token} extra`));
    assert.match(message, /must be "Bearer <token>"/);
    assert.equal(state.verifications, 2, 'a malformed header is refused before any verification');
  });

  test('a cached token is refused once exp + clock tolerance has passed', async () => {
    const { issuer, state, clock, auth, verifier } = await setup();
    const token = await issuer.token(manager, { ttlS: 20 });
    const exp = Math.floor(clock.ms / 1000) + 20;
    await auth(token);
    clock.ms = (exp + TOLERANCE_S) * 1000 - 1;
    assert.deepEqual(await auth(token), manager, 'still within the tolerance');
    assert.equal(state.verifications, 1, 'answered from the cache');
    clock.ms = (exp + TOLERANCE_S) * 1000;
    assert.equal(verifier.cached(`Bearer ${token}`), undefined);
    assert.match(await refusal(auth(token)), /expired/);
  });

  test('the same header and payload with another signature is verified, and refused', async () => {
    const { issuer, state, auth } = await setup();
    const token = await issuer.token(manager);
    await auth(token);
    const [header, payload] = token.split('.');
    // The same claims signed by a key that is not in the key set, under the set's kid.
    const other = await generateSigningKey();
    const forged = await issuer.token(manager, {
      key: { ...other, kid: issuer.currentKey.kid },
    });
    const [, , signature] = forged.split('.');
    const tampered = `${header}.${payload}.${signature}`;
    assert.notEqual(tampered, token);
    assert.match(await refusal(auth(tampered)), /signature is invalid/);
    assert.equal(state.verifications, 2);
  });

  test('an entry is verified again after the age bound', async () => {
    const { issuer, state, clock, auth } = await setup({ maxEntries: 100, maxAgeMs: 5000 });
    const token = await issuer.token(manager);
    await auth(token);
    clock.ms += 4999;
    await auth(token);
    assert.equal(state.verifications, 1);
    clock.ms += 1;
    await auth(token);
    assert.equal(state.verifications, 2);
  });

  test('a new key set makes every entry verify again', async () => {
    const { issuer, state, auth } = await setup();
    const token = await issuer.token(manager);
    await auth(token);
    state.version++;
    await auth(token);
    await auth(token);
    assert.equal(state.verifications, 2);
  });

  test('at most maxEntries tokens are kept, the least recently used goes first', async () => {
    const { issuer, state, auth } = await setup({ maxEntries: 2, maxAgeMs: 60_000 });
    const [a, b, c] = await Promise.all([
      issuer.token(manager, { claims: { n: 1 } }),
      issuer.token(manager, { claims: { n: 2 } }),
      issuer.token(manager, { claims: { n: 3 } }),
    ]);
    await auth(a!);
    await auth(b!);
    await auth(a!);
    assert.equal(state.verifications, 2);
    await auth(c!);
    await auth(a!);
    assert.equal(state.verifications, 3, 'a was used last, so b was dropped for c');
    await auth(b!);
    assert.equal(state.verifications, 4);
  });

  test('a refused token is not cached: refused every time', async () => {
    const { issuer, state, auth } = await setup();
    const token = await issuer.token(manager, { audience: 'someone-else' });
    assert.match(await refusal(auth(token)), /another audience/);
    assert.match(await refusal(auth(token)), /another audience/);
    assert.equal(state.verifications, 2);
  });
});
