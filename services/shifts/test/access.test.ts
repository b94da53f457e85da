import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Principal } from '@shiftops/service-kit';
import { inScope, readScope, refusal, writeScope } from '../src/access.js';

const ME = 'aaaaaaaa-0000-4000-8000-000000000001';
const OTHER = 'aaaaaaaa-0000-4000-8000-000000000002';
const admin: Principal = { userId: ME, role: 'admin', locations: [] };
const manager: Principal = { userId: ME, role: 'manager', locations: [1, 2] };
const employee: Principal = { userId: ME, role: 'employee', locations: [1] };

const rows = {
  mine: { userId: ME, locationId: 3 },
  colleagueHere: { userId: OTHER, locationId: 1 },
  colleagueThere: { userId: OTHER, locationId: 2 },
  elsewhere: { userId: OTHER, locationId: 3 },
} as const;

test('who sees which shift (read) and who may change it (write)', () => {
  const table: [string, Principal, keyof typeof rows, boolean, boolean][] = [
    ['admin', admin, 'mine', true, true],
    ['admin', admin, 'colleagueHere', true, true],
    ['admin', admin, 'elsewhere', true, true],
    ['manager', manager, 'mine', false, false],
    ['manager', manager, 'colleagueHere', true, true],
    ['manager', manager, 'colleagueThere', true, true],
    ['manager', manager, 'elsewhere', false, false],
    ['employee', employee, 'mine', true, false],
    ['employee', employee, 'colleagueHere', false, false],
    ['employee', employee, 'elsewhere', false, false],
  ];
  for (const [who, p, row, read, write] of table) {
    assert.equal(inScope(readScope(p), rows[row]), read, `${who} reads ${row}`);
    const w = writeScope(p);
    assert.equal(w !== undefined && inScope(w, rows[row]), write, `${who} writes ${row}`);
  }
});

test('which values a caller may give a shift', () => {
  const table: [string, Principal, { locationId?: number }, RegExp | undefined][] = [
    ['admin schedules anywhere', admin, { locationId: 9 }, undefined],
    ['manager schedules at their location', manager, { locationId: 2 }, undefined],
    ['manager changes the time only', manager, {}, undefined],
    ['manager schedules elsewhere', manager, { locationId: 3 }, /their locations \(1, 2\)/],
    ['employee schedules themself', employee, { locationId: 1 }, /employees may not/],
  ];
  for (const [label, p, values, expected] of table) {
    const r = refusal(p, values);
    if (expected) assert.match(r ?? '', expected, label);
    else assert.equal(r, undefined, label);
  }
});
