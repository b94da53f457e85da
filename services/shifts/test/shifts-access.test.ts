import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, test } from 'node:test';
import type { Principal } from '@shiftops/service-kit';
import { assertProblem, bearer, forEachDatabase } from '@shiftops/service-kit/testing';
import { shiftsService } from '../src/service.js';

// Locations no other suite uses, so list results are exact.
const HERE = 601;
const THERE = 602;
const A = randomUUID();
const B = randomUUID();
const C = randomUUID();
const hour = 3_600_000;
const day0 = Date.parse('2032-05-03T00:00:00Z');

forEachDatabase(shiftsService, (t) => {
  const ids: Record<string, string> = {};
  const manager: Principal = { userId: randomUUID(), role: 'manager', locations: [HERE] };
  const employee: Principal = { userId: A, role: 'employee', locations: [HERE] };
  const shift = (userId: string, locationId: number, dayOffset: number) => ({
    userId,
    locationId,
    position: 'cook',
    startsAt: new Date(day0 + dayOffset * 24 * hour + 9 * hour).toISOString(),
    endsAt: new Date(day0 + dayOffset * 24 * hour + 17 * hour).toISOString(),
  });
  before(async () => {
    for (const [key, body] of [
      ['aHere', shift(A, HERE, 0)],
      ['aThere', shift(A, THERE, 1)],
      ['bHere', shift(B, HERE, 0)],
      ['cThere', shift(C, THERE, 0)],
    ] as const) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/shifts', payload: body });
      assert.equal(res.statusCode, 201, res.body);
      ids[key] = res.json().id;
    }
  });
  const list = async (p: Principal, query = '') => {
    const res = await t.app.inject({
      url: `/v1/shifts?from=2032-05-01T00:00:00Z&to=2032-05-10T00:00:00Z&${query}`,
      headers: await bearer(p),
    });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json().items as { id: string }[]).map((s) => s.id).sort();
  };
  const sorted = (...keys: string[]) => keys.map((k) => ids[k]!).sort();

  test('no token: 401 on list and item', async () => {
    assertProblem(await t.bare.inject('/v1/shifts'), 401);
    assertProblem(await t.bare.inject(`/v1/shifts/${ids.aHere}`), 401);
  });

  test('employee: lists only their own shifts, at any location, whatever the filter', async () => {
    assert.deepEqual(await list(employee), sorted('aHere', 'aThere'));
    assert.deepEqual(await list(employee, `userId=${B}`), [], 'a list is never a 403');
    assert.deepEqual(await list(employee, `locationId=${THERE}`), sorted('aThere'));
  });

  test("employee: another employee's shift is 404; their own is 200", async () => {
    const headers = await bearer(employee);
    assert.equal((await t.app.inject({ url: `/v1/shifts/${ids.aHere}`, headers })).statusCode, 200);
    assertProblem(await t.app.inject({ url: `/v1/shifts/${ids.bHere}`, headers }), 404);
    assertProblem(await t.app.inject({ url: `/v1/shifts/${ids.cThere}`, headers }), 404);
  });

  test('employee: every write is 403, their own shifts included', async () => {
    const headers = await bearer(employee);
    for (const c of [
      { method: 'POST', url: '/v1/shifts', payload: shift(A, HERE, 5) },
      { method: 'PATCH', url: `/v1/shifts/${ids.aHere}`, payload: { notes: 'swap?' } },
      { method: 'DELETE', url: `/v1/shifts/${ids.aHere}` },
    ] as const) {
      assertProblem(await t.app.inject({ ...c, headers }), 403);
    }
    assert.equal((await t.app.inject(`/v1/shifts/${ids.aHere}`)).json().notes, null);
  });

  test('manager: lists exactly the shifts of their location', async () => {
    assert.deepEqual(await list(manager), sorted('aHere', 'bHere'));
    assert.deepEqual(await list(manager, `locationId=${THERE}`), []);
    assert.deepEqual(await list(manager, `userId=${A}`), sorted('aHere'));
  });

  test('manager: shifts elsewhere are 404 to read, change or delete', async () => {
    const headers = await bearer(manager);
    assertProblem(await t.app.inject({ url: `/v1/shifts/${ids.cThere}`, headers }), 404);
    assertProblem(
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/shifts/${ids.aThere}`,
        headers,
        payload: { notes: 'x' },
      }),
      404,
    );
    assertProblem(
      await t.app.inject({ method: 'DELETE', url: `/v1/shifts/${ids.cThere}`, headers }),
      404,
    );
  });

  test('manager: schedules and changes shifts at their location, never moves one away', async () => {
    const headers = await bearer(manager);
    const made = await t.app.inject({
      method: 'POST',
      url: '/v1/shifts',
      headers,
      payload: shift(B, HERE, 3),
    });
    assert.equal(made.statusCode, 201, made.body);
    assertProblem(
      await t.app.inject({
        method: 'POST',
        url: '/v1/shifts',
        headers,
        payload: shift(B, THERE, 4),
      }),
      403,
    );
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/shifts/${ids.bHere}`,
      headers,
      payload: { notes: 'ok' },
    });
    assert.equal(patched.statusCode, 200);
    assertProblem(
      await t.app.inject({
        method: 'PATCH',
        url: `/v1/shifts/${ids.bHere}`,
        headers,
        payload: { locationId: THERE },
      }),
      403,
    );
    const gone = await t.app.inject({
      method: 'DELETE',
      url: `/v1/shifts/${made.json().id}`,
      headers,
    });
    assert.equal(gone.statusCode, 204);
  });

  test('admin: every shift, everywhere', async () => {
    const admin: Principal = { userId: randomUUID(), role: 'admin', locations: [] };
    assert.deepEqual(await list(admin, `locationId=${THERE}`), sorted('aThere', 'cThere'));
    const headers = await bearer(admin);
    assert.equal(
      (await t.app.inject({ url: `/v1/shifts/${ids.cThere}`, headers })).statusCode,
      200,
    );
  });
});
