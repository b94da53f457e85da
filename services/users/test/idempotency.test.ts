// Idempotency-Key on POST /v1/users, on both databases: the kit's suite, run for this service.
import { idempotencySuite } from '@shiftops/service-kit/testing';
import { usersService } from '../src/service.js';

let n = 0;
idempotencySuite(usersService, {
  path: '/v1/users',
  newBody: () => ({
    email: `idem${++n}.${Date.now()}@example.com`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    role: 'employee',
    locationId: 1,
  }),
  count: async (db, body) =>
    (await db.query('SELECT 1 FROM users.users WHERE email = $1', [body.email])).rows.length,
  conflictField: 'email',
});
