// Idempotency-Key on POST (Stripe's convention), on both databases: a retried create answers the
// first response, another body under the same key is a 422, concurrent retries create once, and a
// key is forgotten after its time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProblem, forEachDatabase } from '@shiftops/service-kit/testing';
import { usersService } from '../src/service.js';

let n = 0;
const newUser = () => ({
  email: `idem${++n}.${Date.now()}@example.com`,
  firstName: 'Ada',
  lastName: 'Lovelace',
  role: 'employee',
  locationId: 1,
});

forEachDatabase(usersService, (t) => {
  const post = (key: string, payload: object) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'idempotency-key': key },
      payload,
    });
  const count = async (email: string) =>
    (await t.db.query('SELECT 1 FROM users.users WHERE email = $1', [email])).rows.length;

  test('a retried create with the same key and body answers the first 201 again, creating once', async () => {
    const key = `k-${n}-${Date.now()}`;
    const body = newUser();
    const first = await post(key, body);
    assert.equal(first.statusCode, 201, first.body);
    // The same body with its keys in another order is the same request.
    const again = await post(key, Object.fromEntries(Object.entries(body).reverse()));
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json(), first.json());
    assert.equal(again.headers.location, first.headers.location);
    assert.equal(again.headers.etag, first.headers.etag);
    assert.equal(await count(body.email), 1);
  });

  test('the same key with another body is a 422 naming the key', async () => {
    const key = `k-${n}-${Date.now()}`;
    assert.equal((await post(key, newUser())).statusCode, 201);
    assertProblem(await post(key, newUser()), 422, 'idempotency-key');
  });

  test('concurrent retries with one key create one user; the others replay it or are told to wait', async () => {
    const key = `k-${n}-${Date.now()}`;
    const body = newUser();
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(key, body)));
    for (const a of answers) assert.ok([201, 409].includes(a.statusCode), a.body);
    const ids = new Set(answers.filter((a) => a.statusCode === 201).map((a) => a.json().id));
    assert.equal(ids.size, 1);
    assert.equal(await count(body.email), 1);
  });

  test('a failed create gives its key back: the corrected retry runs', async () => {
    const key = `k-${n}-${Date.now()}`;
    const taken = newUser();
    assert.equal(
      (await t.app.inject({ method: 'POST', url: '/v1/users', payload: taken })).statusCode,
      201,
    );
    assertProblem(await post(key, taken), 409, 'email');
    // Another body after a failure is a new attempt, not a reuse.
    assert.equal((await post(key, newUser())).statusCode, 201);
  });

  test('a key is forgotten after 24 hours: the same request creates again', async () => {
    const key = `k-${n}-${Date.now()}`;
    const body = newUser();
    assert.equal((await post(key, body)).statusCode, 201);
    await t.db.query(
      "UPDATE users.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1",
      [key],
    );
    await t.db.query('DELETE FROM users.users WHERE email = $1', [body.email]);
    const fresh = await post(key, body);
    assert.equal(fresh.statusCode, 201);
    assert.equal(fresh.headers['idempotent-replayed'], undefined);
    assert.equal(await count(body.email), 1);
  });
});
