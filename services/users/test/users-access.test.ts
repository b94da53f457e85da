import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Principal } from '@shiftops/service-kit';
import { assertProblem, bearer, forEachDatabase } from '@shiftops/service-kit/testing';
import { usersService } from '../src/service.js';

// Locations no other suite uses, so list results are exact.
const HERE = 501;
const THERE = 502;

forEachDatabase(usersService, (t) => {
  const ids: Record<'a' | 'b' | 'c' | 'boss' | 'manager', string> = {
    a: '',
    b: '',
    c: '',
    boss: '',
    manager: '',
  };
  let manager: Principal;
  let employee: Principal;
  const as = async (p: Principal) => bearer(p);
  const make = async (key: keyof typeof ids, role: string, locationId: number) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      payload: {
        email: `${key}.${t.backend}@access.example.com`,
        firstName: key,
        lastName: 'X',
        role,
        locationId,
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    ids[key] = res.json().id;
  };
  before(async () => {
    await make('a', 'employee', HERE);
    await make('b', 'employee', HERE);
    await make('c', 'employee', THERE);
    await make('boss', 'admin', HERE);
    await make('manager', 'manager', HERE);
    manager = { userId: ids.manager, role: 'manager', locations: [HERE] };
    employee = { userId: ids.a, role: 'employee', locations: [HERE] };
  });
  const list = async (p: Principal, query: string) => {
    const res = await t.app.inject({ url: `/v1/users?${query}`, headers: await as(p) });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json().items as { id: string }[]).map((u) => u.id).sort();
  };

  test('no token: 401 on every operation, before the body is looked at', async () => {
    for (const [method, url] of [
      ['GET', '/v1/users'],
      ['GET', `/v1/users/${ids.a}`],
      ['POST', '/v1/users'],
      ['PATCH', `/v1/users/${ids.a}`],
      ['DELETE', `/v1/users/${ids.a}`],
    ] as const) {
      const res = await t.bare.inject({ method, url, payload: method === 'GET' ? undefined : '{' });
      assertProblem(res, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
  });

  test('employee: the list holds only their own user, whatever the filter', async () => {
    assert.deepEqual(await list(employee, `locationId=${HERE}`), [ids.a]);
    assert.deepEqual(await list(employee, 'limit=200'), [ids.a]);
    assert.deepEqual(await list(employee, `locationId=${THERE}`), []);
  });

  test('employee: reads their own user; any other is 404, never 403', async () => {
    const headers = await as(employee);
    assert.equal((await t.app.inject({ url: `/v1/users/${ids.a}`, headers })).statusCode, 200);
    assertProblem(await t.app.inject({ url: `/v1/users/${ids.b}`, headers }), 404);
    assertProblem(await t.app.inject({ url: `/v1/users/${ids.boss}`, headers }), 404);
  });

  test('employee: every write is 403, their own user included', async () => {
    const headers = await as(employee);
    const cases = [
      {
        method: 'POST',
        url: '/v1/users',
        payload: {
          email: 'e@x.co',
          firstName: 'E',
          lastName: 'E',
          role: 'employee',
          locationId: HERE,
        },
      },
      { method: 'PATCH', url: `/v1/users/${ids.a}`, payload: { lastName: 'Self' } },
      { method: 'PATCH', url: `/v1/users/${ids.b}`, payload: { lastName: 'Other' } },
      { method: 'DELETE', url: `/v1/users/${ids.a}` },
    ] as const;
    for (const c of cases) assertProblem(await t.app.inject({ ...c, headers }), 403);
    const stored = await t.app.inject(`/v1/users/${ids.a}`);
    assert.equal(stored.json().lastName, 'X');
  });

  test('manager: the list is exactly the users of their location', async () => {
    const mine = [ids.a, ids.b, ids.boss, ids.manager].sort();
    assert.deepEqual(await list(manager, `locationId=${HERE}`), mine);
    assert.deepEqual(await list(manager, `locationId=${THERE}`), [], 'a list is never a 403');
    const all = await t.app.inject({ url: '/v1/users?limit=200', headers: await as(manager) });
    for (const u of all.json().items) assert.equal(u.locationId, HERE);
  });

  test('manager: users elsewhere are 404 to read, change or delete', async () => {
    const headers = await as(manager);
    assertProblem(await t.app.inject({ url: `/v1/users/${ids.c}`, headers }), 404);
    assertProblem(
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/users/${ids.c}`,
        headers,
        payload: { lastName: 'Y' },
      }),
      404,
    );
    assertProblem(
      await t.app.inject({ method: 'DELETE', url: `/v1/users/${ids.c}`, headers }),
      404,
    );
    assert.equal((await t.app.inject(`/v1/users/${ids.c}`)).json().lastName, 'X');
  });

  test('manager: changes users of their location, but makes no admin and moves nobody away', async () => {
    const headers = await as(manager);
    const patch = (id: string, payload: object) =>
      t.app.inject({ method: 'PATCH', url: `/v1/users/${id}`, headers, payload });
    const ok = await patch(ids.a, { lastName: 'Renamed' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().lastName, 'Renamed');
    assertProblem(await patch(ids.a, { locationId: THERE }), 403);
    assertProblem(await patch(ids.a, { role: 'admin' }), 403);
    assertProblem(await patch(ids.boss, { lastName: 'Demoted' }), 403);
    assertProblem(
      await t.app.inject({ method: 'DELETE', url: `/v1/users/${ids.boss}`, headers }),
      403,
    );
    assert.equal((await t.app.inject(`/v1/users/${ids.boss}`)).json().lastName, 'X');
  });

  test('manager: a stale If-Match on a user they may change is still a 412', async () => {
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${ids.b}`,
      headers: { ...(await as(manager)), 'if-match': '"99"' },
      payload: { lastName: 'Late' },
    });
    assertProblem(res, 412);
  });

  test('manager: hires at their location only, and never an admin', async () => {
    const headers = await as(manager);
    const post = (over: object) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/users',
        headers,
        payload: {
          email: `hire.${Math.random()}@access.example.com`,
          firstName: 'H',
          lastName: 'H',
          role: 'employee',
          locationId: HERE,
          ...over,
        },
      });
    assert.equal((await post({})).statusCode, 201);
    assertProblem(await post({ locationId: THERE }), 403);
    assertProblem(await post({ role: 'admin' }), 403);
  });

  test('manager: deletes a user of their location', async () => {
    const headers = await as(manager);
    const res = await t.app.inject({ method: 'DELETE', url: `/v1/users/${ids.b}`, headers });
    assert.equal(res.statusCode, 204);
    assertProblem(await t.app.inject(`/v1/users/${ids.b}`), 404);
  });

  test('admin: reads and changes users at any location', async () => {
    const headers = await as({ userId: ids.boss, role: 'admin', locations: [HERE] });
    assert.equal((await t.app.inject({ url: `/v1/users/${ids.c}`, headers })).statusCode, 200);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${ids.c}`,
      headers,
      payload: { role: 'admin' },
    });
    assert.equal(res.statusCode, 200);
    assert.ok(
      (
        await list({ userId: ids.boss, role: 'admin', locations: [] }, `locationId=${THERE}`)
      ).includes(ids.c),
    );
  });

  test('the OpenAPI document requires the bearer token and lists 401 and 403 on every operation', async () => {
    const doc = (await t.bare.inject('/openapi.json')).json();
    const ops = Object.values(
      doc.paths as Record<
        string,
        Record<string, { security: unknown; responses: Record<string, unknown> }>
      >,
    ).flatMap((p) => Object.values(p));
    assert.ok(ops.length >= 5);
    for (const op of ops) {
      assert.deepEqual(op.security, [{ bearerAuth: [] }]);
      assert.ok(op.responses['401'] && op.responses['403']);
    }
  });
});
