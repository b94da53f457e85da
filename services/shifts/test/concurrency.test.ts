import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { forEachDatabase } from '@shiftops/service-kit/testing';
import { shiftsService } from '../src/service.js';

const WRITERS = 20;

forEachDatabase(shiftsService, (t) => {
  test(`${WRITERS} concurrent overlapping shifts for one user: exactly one is created, the rest get 409`, async () => {
    const userId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/shifts',
          payload: {
            userId,
            locationId: 1,
            position: 'server',
            // All overlap 12:00-13:00, each with a different start.
            startsAt: `2032-01-10T${String(4 + (i % 8)).padStart(2, '0')}:00:00Z`,
            endsAt: '2032-01-10T13:00:00Z',
          },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [201, ...Array(WRITERS - 1).fill(409)]);
    const stored = (await t.app.inject(`/v1/shifts?userId=${userId}`)).json();
    assert.equal(stored.items.length, 1);
  });

  test(`${WRITERS} concurrent PATCHes with the same ETag: one 200, the rest 412`, async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/shifts',
      payload: {
        userId: randomUUID(),
        locationId: 1,
        position: 'host',
        startsAt: '2032-01-11T09:00:00Z',
        endsAt: '2032-01-11T17:00:00Z',
      },
    });
    const { id } = created.json();
    const etag = String(created.headers.etag);
    const results = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) =>
        t.app.inject({
          method: 'PATCH',
          url: `/v1/shifts/${id}`,
          headers: { 'if-match': etag },
          payload: { notes: `writer ${i}` },
        }),
      ),
    );
    const codes = results.map((r) => r.statusCode).sort();
    assert.deepEqual(codes, [200, ...Array(WRITERS - 1).fill(412)]);
    const winner = results.find((r) => r.statusCode === 200)!.json().notes;
    const final = await t.app.inject(`/v1/shifts/${id}`);
    assert.equal(final.json().notes, winner);
    assert.equal(final.headers.etag, '"2"');
  });
});
