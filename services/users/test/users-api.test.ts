import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertProblem, forEachDatabase } from '@shiftops/service-kit/testing';
import { usersService } from '../src/service.js';

let n = 0;
const newUser = (over: Record<string, unknown> = {}) => ({
  email: `person${++n}.${Date.now()}@example.com`,
  firstName: 'Ada',
  lastName: 'Lovelace',
  role: 'employee',
  locationId: 1,
  ...over,
});

forEachDatabase(usersService, (t) => {
  const post = (payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/users', payload: payload as object });
  const created = async (over: Record<string, unknown> = {}) => {
    const res = await post(newUser(over));
    assert.equal(res.statusCode, 201, res.body);
    return { ...(res.json() as { id: string; email: string }), etag: String(res.headers.etag) };
  };

  test('POST creates a user and answers 201 with Location and ETag', async () => {
    const input = newUser({ role: 'manager', locationId: 7 });
    const res = await post(input);
    assert.equal(res.statusCode, 201);
    const user = res.json();
    assert.match(user.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.location, `/v1/users/${user.id}`);
    assert.equal(res.headers.etag, '"1"');
    assert.deepEqual(
      { email: user.email, role: user.role, locationId: user.locationId, active: user.active },
      { email: input.email, role: 'manager', locationId: 7, active: true },
    );
    assert.ok(Date.parse(user.createdAt) <= Date.now());
  });

  test('GET returns the stored user with its ETag', async () => {
    const user = await created();
    const res = await t.app.inject(`/v1/users/${user.id}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, '"1"');
    assert.equal(res.json().email, user.email);
  });

  test('GET of an unknown id is a 404 problem', async () => {
    assertProblem(await t.app.inject('/v1/users/00000000-0000-4000-8000-000000000000'), 404);
  });

  test('GET of a malformed id is a 400 naming id', async () => {
    assertProblem(await t.app.inject('/v1/users/not-a-uuid'), 400, 'id');
  });

  test('an email that differs only in case is a 409 naming email', async () => {
    const user = await created();
    assertProblem(await post(newUser({ email: user.email.toUpperCase() })), 409, 'email');
  });

  test('invalid JSON is a 400 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
    });
    assertProblem(res, 400);
  });

  for (const [label, over, field] of [
    ['a wrong type', { locationId: '3' }, 'locationId'],
    ['an unknown field', { nickname: 'x' }, 'nickname'],
    ['an out-of-range value', { locationId: 0 }, 'locationId'],
    ['a value outside the enum', { role: 'owner' }, 'role'],
    ['a malformed email', { email: 'not-an-email' }, 'email'],
    ['a blank name', { firstName: '   ' }, 'firstName'],
    ['a missing field', { lastName: undefined }, 'lastName'],
  ] as const) {
    test(`${label} is a 400 naming ${field}`, async () => {
      assertProblem(await post(newUser(over)), 400, field);
    });
  }

  test('a body over the limit is a 413 problem', async () => {
    assertProblem(await post(newUser({ lastName: 'x'.repeat(70_000) })), 413);
  });

  test('a non-JSON body is a 415 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assertProblem(res, 415);
  });

  test('PATCH changes only the given fields and bumps the ETag', async () => {
    const user = await created({ firstName: 'Grace' });
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${user.id}`,
      headers: { 'if-match': user.etag },
      payload: { lastName: 'Hopper', active: false },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers.etag, '"2"');
    const body = res.json();
    assert.deepEqual([body.firstName, body.lastName, body.active], ['Grace', 'Hopper', false]);
    assert.ok(Date.parse(body.updatedAt) >= Date.parse(body.createdAt));
  });

  test('PATCH with a stale If-Match is a 412 and changes nothing', async () => {
    const user = await created();
    const ok = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${user.id}`,
      headers: { 'if-match': user.etag },
      payload: { firstName: 'New' },
    });
    assert.equal(ok.statusCode, 200);
    const stale = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${user.id}`,
      headers: { 'if-match': user.etag },
      payload: { firstName: 'Lost' },
    });
    assertProblem(stale, 412);
    assert.equal((await t.app.inject(`/v1/users/${user.id}`)).json().firstName, 'New');
  });

  test('PATCH rejects an empty body, a malformed or over-long If-Match, and a taken email', async () => {
    const user = await created();
    const other = await created();
    const patch = (payload: unknown, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/users/${user.id}`,
        headers,
        payload: payload as object,
      });
    assertProblem(await patch({}), 400);
    // Not an ETag list: it names no version, so the write does not happen.
    assertProblem(await patch({ firstName: 'x' }, { 'if-match': '1' }), 412);
    assertProblem(
      await patch({ firstName: 'x' }, { 'if-match': `"${'9'.repeat(300)}"` }),
      400,
      'if-match',
    );
    // Strong comparison: a weak tag never matches, even with the current version.
    assertProblem(await patch({ firstName: 'x' }, { 'if-match': 'W/"1"' }), 412);
    assertProblem(await patch({ email: other.email }), 409, 'email');
    assertProblem(
      await t.app.inject({
        method: 'PATCH',
        url: '/v1/users/00000000-0000-4000-8000-000000000000',
        payload: { firstName: 'x' },
      }),
      404,
    );
  });

  test('DELETE removes the user; a stale If-Match is a 412; a second DELETE is a 404', async () => {
    const user = await created();
    assertProblem(
      await t.app.inject({
        method: 'DELETE',
        url: `/v1/users/${user.id}`,
        headers: { 'if-match': '"9"' },
      }),
      412,
    );
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${user.id}`,
      headers: { 'if-match': user.etag },
    });
    assert.equal(res.statusCode, 204);
    assertProblem(await t.app.inject(`/v1/users/${user.id}`), 404);
    assertProblem(await t.app.inject({ method: 'DELETE', url: `/v1/users/${user.id}` }), 404);
  });

  test('list filters by location, role, active and text, and keyset pages see every row once', async () => {
    const location = 1000 + Math.floor(Math.random() * 1_000_000);
    const made = [];
    for (let i = 0; i < 7; i++) {
      made.push(
        await created({
          locationId: location,
          role: i < 2 ? 'manager' : 'employee',
          active: i !== 3,
          lastName: i === 5 ? 'O_Brien%' : 'Lee',
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/users?locationId=${location}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.app.inject(url)).json() as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, made.map((u) => u.id).sort());

    const count = async (query: string) =>
      (
        (await t.app.inject(`/v1/users?locationId=${location}&${query}`)).json() as {
          items: unknown[];
        }
      ).items.length;
    assert.equal(await count('role=manager'), 2);
    assert.equal(await count('active=false'), 1);
    assert.equal(await count('q=o_brien%25'), 1, 'LIKE wildcards in q are matched literally');
    assert.equal(await count('q=%25'), 1);
    assert.equal(await count(`q=${encodeURIComponent(made[0]!.email.toUpperCase())}`), 1);
  });

  // No input gives a 500: text PostgreSQL cannot store exactly, and ids it does not take, are 400s.
  for (const [label, over, field] of [
    ['a NUL in a name', { firstName: 'A\u0000da' }, 'firstName'],
    ['an unpaired surrogate in a name', { lastName: 'L\udc00' }, 'lastName'],
  ] as const) {
    test(`${label} is a 400 naming ${field}`, async () => {
      assertProblem(await post(newUser(over)), 400, field);
    });
  }

  test('text with any storable character (emoji, accents, controls) comes back exactly', async () => {
    const firstName = 'Zoë 🧑‍🍳 \t 中';
    const user = await created({ firstName });
    assert.equal((await t.app.inject(`/v1/users/${user.id}`)).json().firstName, firstName);
  });

  test('query and path values PostgreSQL cannot take are 400s naming them', async () => {
    assertProblem(await t.app.inject('/v1/users?q=a%00b'), 400, 'q');
    // Invalid UTF-8 in a query decodes to U+FFFD, as in any URL parser: a storable search.
    assert.equal((await t.app.inject('/v1/users?q=%ED%A0%80')).statusCode, 200);
    assertProblem(
      await t.app.inject('/v1/users/urn:uuid:00000000-0000-4000-8000-000000000000'),
      400,
      'id',
    );
  });

  test('list rejects a tampered cursor, a bad limit and an unknown parameter with 400', async () => {
    assertProblem(await t.app.inject('/v1/users?cursor=bm90LWEtY3Vyc29y'), 400, 'cursor');
    // Any value of the documented form (an id) is a position: the page after it.
    const after = await t.app.inject('/v1/users?cursor=ffffffff-ffff-4fff-bfff-ffffffffffff');
    assert.deepEqual(after.json(), { items: [], nextCursor: null });
    assertProblem(await t.app.inject('/v1/users?limit=0'), 400, 'limit');
    assertProblem(await t.app.inject('/v1/users?limit=201'), 400, 'limit');
    assertProblem(await t.app.inject('/v1/users?sort=name'), 400, 'sort');
    assertProblem(await t.app.inject('/v1/users?active=maybe'), 400, 'active');
  });

  test('an unknown route is a 404 problem', async () => {
    assertProblem(await t.app.inject('/v2/users'), 404);
  });

  test('/openapi.json is OpenAPI 3.1 generated from the routes', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/v1/users', '/v1/users/{id}']);
    assert.deepEqual(Object.keys(doc.paths['/v1/users/{id}']).sort(), ['delete', 'get', 'patch']);
    assert.ok(doc.paths['/v1/users'].post.responses['409']);
  });

  test('health, version and metrics endpoints answer on the operations app, not the API', async () => {
    const ops = t.app.ops;
    assert.equal((await ops.inject('/livez')).statusCode, 200);
    assert.deepEqual((await ops.inject('/readyz')).json(), { status: 'ready' });
    assert.deepEqual((await ops.inject('/version')).json(), {
      service: 'users',
      version: '0.1.0',
      commit: 'test',
    });
    await t.app.inject('/v1/users/00000000-0000-4000-8000-000000000000');
    const metrics = (await ops.inject('/metrics')).body;
    assert.match(
      metrics,
      /http_request_duration_seconds_count\{[^}]*route="\/v1\/users\/:id",method="GET",status_code="404"\} [1-9]/,
    );
    assert.match(metrics, /db_pool_connections\{[^}]*state="max"/);
    assert.match(metrics, /process_cpu_user_seconds_total/);
    for (const path of ['/livez', '/readyz', '/metrics', '/version']) {
      assertProblem(await t.app.inject(path), 404);
    }
    assertProblem(await ops.inject('/v1/users'), 404);
    assertProblem(await ops.inject('/openapi.json'), 404);
  });

  test('/readyz turns 503 while draining', async () => {
    t.app.lifecycle.startDraining();
    const res = await t.app.ops.inject('/readyz');
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'draining' });
  });
});
