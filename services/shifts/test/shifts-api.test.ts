import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { assertProblem, forEachDatabase } from '@shiftops/service-kit/testing';
import { shiftsService } from '../src/service.js';

const hour = 3_600_000;
const at = (base: number, hours: number) => new Date(base + hours * hour).toISOString();
const day0 = Date.parse('2031-03-03T00:00:00Z');

const newShift = (over: Record<string, unknown> = {}) => ({
  userId: randomUUID(),
  locationId: 3,
  position: 'cook',
  startsAt: at(day0, 9),
  endsAt: at(day0, 17),
  breakMinutes: 30,
  ...over,
});

forEachDatabase(shiftsService, (t) => {
  const post = (payload: unknown) =>
    t.app.inject({ method: 'POST', url: '/v1/shifts', payload: payload as object });
  const created = async (over: Record<string, unknown> = {}) => {
    const res = await post(newShift(over));
    assert.equal(res.statusCode, 201, res.body);
    return {
      ...(res.json() as { id: string; userId: string; startsAt: string }),
      etag: String(res.headers.etag),
    };
  };

  test('POST creates a shift with defaults and answers 201 with Location and ETag', async () => {
    const input = newShift({ notes: 'opening', breakMinutes: undefined });
    const res = await post(input);
    assert.equal(res.statusCode, 201, res.body);
    const shift = res.json();
    assert.equal(res.headers.location, `/v1/shifts/${shift.id}`);
    assert.equal(res.headers.etag, '"1"');
    assert.deepEqual(
      [
        shift.userId,
        shift.startsAt,
        shift.endsAt,
        shift.breakMinutes,
        shift.notes,
        shift.published,
      ],
      [input.userId, input.startsAt, input.endsAt, 0, 'opening', false],
    );
  });

  test('times with an offset are stored as the same instant', async () => {
    const shift = await created({
      startsAt: '2031-03-03T09:00:00+02:00',
      endsAt: '2031-03-03T17:30:00+02:00',
    });
    assert.equal(shift.startsAt, '2031-03-03T07:00:00.000Z');
  });

  test('an overlapping shift for the same user is a 409; touching or another user is fine', async () => {
    const first = await created();
    assertProblem(
      await post(newShift({ userId: first.userId, startsAt: at(day0, 16), endsAt: at(day0, 20) })),
      409,
      'startsAt',
    );
    assert.equal(
      (await post(newShift({ userId: first.userId, startsAt: at(day0, 17), endsAt: at(day0, 21) })))
        .statusCode,
      201,
    );
    assert.equal(
      (await post(newShift({ startsAt: at(day0, 16), endsAt: at(day0, 20) }))).statusCode,
      201,
    );
  });

  // Rules across fields, which no schema can state: 422, naming the field.
  for (const [label, over, field] of [
    ['an end before the start', { endsAt: at(day0, 8) }, 'endsAt'],
    ['an end equal to the start', { endsAt: at(day0, 9) }, 'endsAt'],
    ['a shift over 24 hours', { endsAt: at(day0, 34) }, 'endsAt'],
    ['a break as long as the shift', { breakMinutes: 480 }, 'breakMinutes'],
  ] as const) {
    test(`${label} is a 422 naming ${field}`, async () => {
      assertProblem(await post(newShift(over)), 422, field);
    });
  }

  for (const [label, over, field] of [
    ['a negative break', { breakMinutes: -5 }, 'breakMinutes'],
    ['a time without offset', { startsAt: '2031-03-03T09:00:00' }, 'startsAt'],
    ['an impossible date', { startsAt: '2031-02-30T09:00:00Z' }, 'startsAt'],
    ['a malformed userId', { userId: 'u-1' }, 'userId'],
    ['a string locationId', { locationId: '3' }, 'locationId'],
    ['an unknown field', { role: 'cook' }, 'role'],
    ['a missing position', { position: undefined }, 'position'],
    ['notes over 2000 characters', { notes: 'n'.repeat(2001) }, 'notes'],
  ] as const) {
    test(`${label} is a 400 naming ${field}`, async () => {
      assertProblem(await post(newShift(over)), 400, field);
    });
  }

  test('GET returns the shift with its ETag; unknown and malformed ids are 404 and 400', async () => {
    const shift = await created();
    const res = await t.app.inject(`/v1/shifts/${shift.id}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, '"1"');
    assert.equal(res.json().id, shift.id);
    assertProblem(await t.app.inject(`/v1/shifts/${randomUUID()}`), 404);
    assertProblem(await t.app.inject('/v1/shifts/123'), 400, 'id');
  });

  test('PATCH moves a shift, checks the new times, and honours If-Match', async () => {
    const shift = await created();
    const patch = (payload: unknown, etag?: string) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/shifts/${shift.id}`,
        headers: etag ? { 'if-match': etag } : {},
        payload: payload as object,
      });
    const moved = await patch(
      { startsAt: at(day0, 10), endsAt: at(day0, 18), published: true },
      shift.etag,
    );
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.headers.etag, '"2"');
    assert.deepEqual([moved.json().startsAt, moved.json().published], [at(day0, 10), true]);
    assertProblem(await patch({ notes: 'late' }, shift.etag), 412);
    assertProblem(await patch({ endsAt: at(day0, 9) }), 422, 'endsAt');
    assertProblem(await patch({ breakMinutes: 600 }), 422, 'breakMinutes');
    assertProblem(await patch({}), 400);
    const clash = await created({
      userId: shift.userId,
      startsAt: at(day0, 20),
      endsAt: at(day0, 23),
    });
    assertProblem(await patch({ endsAt: at(day0, 21) }), 409, 'startsAt');
    assert.ok(clash.id);
  });

  test('DELETE removes a shift; stale If-Match is a 412; then it is a 404', async () => {
    const shift = await created();
    assertProblem(
      await t.app.inject({
        method: 'DELETE',
        url: `/v1/shifts/${shift.id}`,
        headers: { 'if-match': '"5"' },
      }),
      412,
    );
    assert.equal(
      (await t.app.inject({ method: 'DELETE', url: `/v1/shifts/${shift.id}` })).statusCode,
      204,
    );
    assertProblem(await t.app.inject(`/v1/shifts/${shift.id}`), 404);
  });

  test('list filters by location, user, published and time-window overlap, in start order', async () => {
    const location = 100_000 + Math.floor(Math.random() * 1_000_000);
    const user = randomUUID();
    const week = Date.parse('2031-05-05T00:00:00Z');
    // Day d at 20:00 for 8 hours: each crosses midnight into the next day.
    for (let d = 0; d < 10; d++) {
      await created({
        userId: user,
        locationId: location,
        startsAt: at(week, d * 24 + 20),
        endsAt: at(week, d * 24 + 28),
        published: d % 2 === 0,
      });
    }
    await created({ locationId: location, startsAt: at(week, 30), endsAt: at(week, 31) });
    const list = async (query: string) => {
      const res = await t.app.inject(`/v1/shifts?locationId=${location}&${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { items: { startsAt: string; userId: string }[] }).items;
    };
    assert.equal((await list('limit=200')).length, 11);
    assert.equal((await list(`userId=${user}`)).length, 10);
    assert.equal((await list(`userId=${user}&published=true`)).length, 5);
    // Window [day 1 00:00, day 2 00:00) overlaps the shift that started day 0 20:00, the one of
    // day 1 20:00, and the other user's 06:00 shift of day 1.
    const window = await list(`from=${at(week, 24)}&to=${at(week, 48)}`);
    assert.deepEqual(
      window.map((s) => s.startsAt),
      [at(week, 20), at(week, 30), at(week, 44)],
    );
    const starts = (await list('limit=200')).map((s) => s.startsAt);
    assert.deepEqual(starts, [...starts].sort());
  });

  test('keyset pages over shifts that start at the same time see every row exactly once', async () => {
    const location = 2_000_000 + Math.floor(Math.random() * 1_000_000);
    const ids = [];
    for (let i = 0; i < 9; i++)
      ids.push(
        (
          await created({
            locationId: location,
            startsAt: at(day0, i < 5 ? 6 : 7),
            endsAt: at(day0, 12),
          })
        ).id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/shifts?locationId=${location}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.app.inject(url)).json() as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 9);
    assert.deepEqual([...seen].sort(), [...ids].sort());
  });

  test('list rejects an inverted window, a tampered cursor and unknown parameters with 400', async () => {
    assertProblem(
      await t.app.inject(`/v1/shifts?from=${at(day0, 5)}&to=${at(day0, 1)}`),
      422,
      'to',
    );
    assertProblem(await t.app.inject('/v1/shifts?cursor=WyJ4Il0'), 400, 'cursor');
    // Any value of the documented form is a position: the page after it.
    const after = await t.app.inject(
      `/v1/shifts?cursor=${Date.parse('2999-01-01T00:00:00Z')}_${randomUUID()}`,
    );
    assert.equal(after.statusCode, 200);
    assertProblem(await t.app.inject('/v1/shifts?from=yesterday'), 400, 'from');
    assertProblem(await t.app.inject('/v1/shifts?userId=1'), 400, 'userId');
    assertProblem(await t.app.inject('/v1/shifts?page=2'), 400, 'page');
  });

  // No input gives a 500: each class PostgreSQL cannot take is a 400 naming the field.
  for (const [label, over, field] of [
    ['an offset beyond ±15:59', { startsAt: '2031-03-03T09:00:00+16:00' }, 'startsAt'],
    ['year 0000', { startsAt: '0000-03-03T09:00:00Z' }, 'startsAt'],
    ['year 9999 (UTC could pass 9999)', { endsAt: '9999-12-31T17:00:00-15:00' }, 'endsAt'],
    ['a leap second', { startsAt: '2031-03-03T23:59:60Z' }, 'startsAt'],
    ['a NUL in notes', { notes: 'a\u0000b' }, 'notes'],
    ['an unpaired surrogate in position', { position: 'c\ud800k' }, 'position'],
    ['a urn:uuid: userId', { userId: `urn:uuid:${randomUUID()}` }, 'userId'],
  ] as const) {
    test(`a shift with ${label} is a 400 naming ${field}`, async () => {
      assertProblem(await post(newShift(over)), 400, field);
    });
  }

  test('query parameters PostgreSQL cannot take are 400s naming them', async () => {
    assertProblem(await t.app.inject('/v1/shifts?from=2031-01-01T00:00:00%2B16:00'), 400, 'from');
    assertProblem(await t.app.inject('/v1/shifts?to=0001-01-01T00:00:00Z'), 400, 'to');
    assertProblem(await t.app.inject(`/v1/shifts?userId=urn:uuid:${randomUUID()}`), 400, 'userId');
    assertProblem(await t.app.inject('/v1/shifts?cursor=123456789012345_x'), 400, 'cursor');
  });

  test('times at the edges of the range come back exactly as stored, and page in order', async () => {
    const userId = randomUUID();
    const locationId = 1000 + Math.floor(Math.random() * 1_000_000);
    const edges = [
      ['0002-01-01T00:00:00+15:59', '0002-01-01T03:00:00Z', '0001-12-31T08:01:00.000Z'],
      ['0099-06-01T10:00:00.123Z', '0099-06-01T12:00:00Z', '0099-06-01T10:00:00.123Z'],
      ['1969-12-31T23:59:59.999Z', '1970-01-01T01:00:00Z', '1969-12-31T23:59:59.999Z'],
      ['9998-12-31T20:00:00-15:59', '9998-12-31T23:00:00-15:59', '9999-01-01T11:59:00.000Z'],
    ];
    for (const [startsAt, endsAt, stored] of edges) {
      const res = await post(newShift({ userId, locationId, startsAt, endsAt, breakMinutes: 0 }));
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().startsAt, stored);
      const read = await t.app.inject(`/v1/shifts/${res.json().id}`);
      assert.equal(read.json().startsAt, stored, `${startsAt} read back on ${t.backend}`);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/v1/shifts?locationId=${locationId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await t.app.inject(url)).json() as {
        items: { startsAt: string }[];
        nextCursor: string | null;
      };
      seen.push(...page.items.map((s) => s.startsAt));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      seen,
      edges.map((e) => e[2]),
    );
  });

  test('/openapi.json documents the shifts routes as OpenAPI 3.1', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/v1/shifts', '/v1/shifts/{id}']);
  });
});
