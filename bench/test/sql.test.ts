import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database, QueryResult } from '@shiftops/service-kit';
import { ShiftRepository } from '../../services/shifts/src/repository.js';
import { UserRepository } from '../../services/users/src/repository.js';
import * as sql from '../sql.js';

const now = new Date();
// The bench calls as an admin: an unrestricted scope adds nothing to the SQL.
const all = { kind: 'all' } as const;
const userRow = {
  id: '00000000-0000-4000-8000-000000000001',
  email: 'a@example.com',
  first_name: 'A',
  last_name: 'B',
  role: 'employee',
  location_id: 1,
  active: true,
  version: 1,
  created_at: now,
  updated_at: now,
};
const shiftRow = {
  id: '00000000-0000-4000-8000-000000000002',
  user_id: userRow.id,
  location_id: 1,
  position: 'cook',
  starts_at: now,
  ends_at: now,
  break_minutes: 0,
  notes: null,
  published: false,
  version: 1,
  created_at: now,
  updated_at: now,
};

/** A Database that records the statements a repository sends and answers with one row. */
function capturing(row: object): { db: Database; sent: { text: string; params: unknown[] }[] } {
  const sent: { text: string; params: unknown[] }[] = [];
  const db = {
    kind: 'postgres',
    async query<R>(text: string, params: unknown[] = []): Promise<QueryResult<R>> {
      sent.push({ text, params });
      return { rows: [row as R], rowCount: 1 };
    },
  } as unknown as Database;
  return { db, sent };
}

test("the baselines' SQL is the text the repositories send, with the same parameters", async () => {
  const users = capturing(userRow);
  const userRepo = new UserRepository(users.db);
  await userRepo.get(userRow.id, all);
  await userRepo.list({ limit: 50 }, all);
  await userRepo.list({ limit: 50, afterId: userRow.id }, all);
  assert.deepEqual(users.sent, [
    { text: sql.getUser, params: [userRow.id] },
    { text: sql.listUsersFirstPage, params: [51] },
    { text: sql.listUsersAfter, params: [userRow.id, 51] },
  ]);

  const shifts = capturing(shiftRow);
  const shiftRepo = new ShiftRepository(shifts.db);
  const from = '2030-01-07T00:00:00.000Z';
  const to = '2030-01-14T00:00:00.000Z';
  await shiftRepo.list({ locationId: 7, from, to, limit: 50 }, all);
  const input = {
    userId: userRow.id,
    locationId: 7,
    position: 'cook',
    startsAt: from,
    endsAt: to,
    breakMinutes: 30,
    notes: 'bench',
    published: false,
  };
  await shiftRepo.create(input);
  assert.deepEqual(shifts.sent, [
    { text: sql.listShiftsOfLocation, params: [7, from, to, 51] },
    { text: sql.createShift, params: Object.values(input) },
  ]);
});
