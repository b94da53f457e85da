import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database, Principal, ServiceDefinition } from '../src/index.js';
import { bearer } from './auth.js';
import { assertProblem, forEachDatabase } from './databases.js';

type Body = Record<string, unknown>;

/** What the Idempotency-Key suite needs to know about one service's create. */
export interface IdempotentCreate {
  /** The collection a POST creates in, e.g. `/v1/users`. */
  path: string;
  /** A body that creates a new row each time one is made (any caller of the suite may create it). */
  newBody(): Body;
  /** How many rows hold this body's unique part (the users' email, the shift's user and time). */
  count(db: Database, body: Body): Promise<number>;
  /** The field a 409 names when a body's unique part is taken already. */
  conflictField: string;
}

/** An administrator other than the suites' default caller, with a token of their own. */
const OTHER_ADMIN: Principal = Object.freeze({
  userId: 'ad000000-0000-4000-8000-000000000002',
  role: 'admin',
  locations: Object.freeze([]),
});

/**
 * Idempotency-Key on POST (Stripe's convention), on both databases: a retried create answers the
 * first response, another body under the same key is a 422, concurrent retries create once, a
 * failed create gives its key back, a key is forgotten after its time, and a key belongs to its
 * caller (another caller presenting it is refused). The same suite runs for every service, so none of them misses a case.
 */
export function idempotencySuite(service: ServiceDefinition, create: IdempotentCreate): void {
  let n = 0;
  const newKey = () => `k-${++n}-${Date.now()}`;
  const table = `${service.identity.name}.idempotency_keys`;

  forEachDatabase(service, (t) => {
    const post = async (key: string, payload: Body, caller?: Principal) =>
      t.app.inject({
        method: 'POST',
        url: create.path,
        headers: { 'idempotency-key': key, ...(caller ? await bearer(caller) : {}) },
        payload,
      });
    const count = (body: Body) => create.count(t.db, body);

    test('a retried create with the same key and body answers the first 201 again, creating once', async () => {
      const key = newKey();
      const body = create.newBody();
      const first = await post(key, body);
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      // The same body with its keys in another order is the same request.
      const again = await post(key, Object.fromEntries(Object.entries(body).reverse()));
      assert.equal(again.statusCode, 201, again.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assert.equal(again.headers.location, first.headers.location);
      assert.equal(again.headers.etag, first.headers.etag);
      assert.equal(await count(body), 1);
    });

    test('the same key with another body is a 422 naming the key', async () => {
      const key = newKey();
      assert.equal((await post(key, create.newBody())).statusCode, 201);
      assertProblem(await post(key, create.newBody()), 422, 'idempotency-key');
    });

    test("another caller's same key is a 422 naming the key, never the first caller's response", async () => {
      const key = newKey();
      const mine = create.newBody();
      const first = await post(key, mine);
      assert.equal(first.statusCode, 201, first.body);

      // The same key and body from someone else: refused, not a replay of the first caller's 201.
      const sameBody = await post(key, mine, OTHER_ADMIN);
      assertProblem(sameBody, 422, 'idempotency-key');
      assert.equal(sameBody.headers['idempotent-replayed'], undefined);
      assert.ok(!sameBody.body.includes(String(first.json().id)), sameBody.body);
      // Another body from them under that key: refused as well, and nothing is created.
      const theirs = create.newBody();
      assertProblem(await post(key, theirs, OTHER_ADMIN), 422, 'idempotency-key');
      assert.equal(await count(theirs), 0);
      assert.equal(await count(mine), 1);

      // The key is still the first caller's: their retry answers their first response.
      const myRetry = await post(key, mine);
      assert.equal(myRetry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(myRetry.json(), first.json());
    });

    test('a record from a replica older than migration 003 (no caller) is replayed to nobody', async () => {
      const key = newKey();
      const body = create.newBody();
      const first = await post(key, body);
      assert.equal(first.statusCode, 201, first.body);
      // What an older replica's INSERT leaves during a rollout: the column's default caller.
      await t.db.query(`UPDATE ${table} SET caller = DEFAULT WHERE key = $1`, [key]);
      assertProblem(await post(key, body), 422, 'idempotency-key');
      assert.equal(await count(body), 1);
    });

    test('concurrent retries with one key create once; the others replay it or are told to wait', async () => {
      const key = newKey();
      const body = create.newBody();
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(key, body)));
      for (const a of answers) assert.ok([201, 409].includes(a.statusCode), a.body);
      const ids = new Set(answers.filter((a) => a.statusCode === 201).map((a) => a.json().id));
      assert.equal(ids.size, 1);
      assert.equal(await count(body), 1);
    });

    test('a failed create gives its key back: the corrected retry runs', async () => {
      const key = newKey();
      const taken = create.newBody();
      const plain = await t.app.inject({ method: 'POST', url: create.path, payload: taken });
      assert.equal(plain.statusCode, 201, plain.body);
      assertProblem(await post(key, taken), 409, create.conflictField);
      // Another body after a failure is a new attempt, not a reuse.
      assert.equal((await post(key, create.newBody())).statusCode, 201);
    });

    test('a key is forgotten after 24 hours: the same request creates again', async () => {
      const key = newKey();
      const body = create.newBody();
      const first = await post(key, body);
      assert.equal(first.statusCode, 201, first.body);
      await t.db.query(
        `UPDATE ${table} SET created_at = now() - interval '25 hours' WHERE key = $1`,
        [key],
      );
      const removed = await t.app.inject({ method: 'DELETE', url: String(first.headers.location) });
      assert.equal(removed.statusCode, 204, removed.body);
      const fresh = await post(key, body);
      assert.equal(fresh.statusCode, 201, fresh.body);
      assert.equal(fresh.headers['idempotent-replayed'], undefined);
      assert.notEqual(fresh.json().id, first.json().id);
      assert.equal(await count(body), 1);
    });
  });
}
