// Idempotency-Key on POST /v1/shifts, on both databases: the kit's suite, run for this service.
import { randomUUID } from 'node:crypto';
import { idempotencySuite } from '@shiftops/service-kit/testing';
import { shiftsService } from '../src/service.js';

idempotencySuite(shiftsService, {
  path: '/v1/shifts',
  // A user of their own each time, so no two bodies overlap.
  newBody: () => ({
    userId: randomUUID(),
    locationId: 4,
    position: 'cook',
    startsAt: '2033-01-10T09:00:00Z',
    endsAt: '2033-01-10T17:00:00Z',
  }),
  count: async (db, body) =>
    (await db.query('SELECT 1 FROM shifts.shifts WHERE user_id = $1', [body.userId])).rows.length,
  conflictField: 'startsAt',
});
