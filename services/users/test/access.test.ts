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
  self: { id: ME, role: 'manager', locationId: 1 },
  colleague: { id: OTHER, role: 'employee', locationId: 1 },
  adminHere: { id: OTHER, role: 'admin', locationId: 2 },
  elsewhere: { id: OTHER, role: 'employee', locationId: 3 },
} as const;

test('who sees which user (read) and who may change it (write)', () => {
  // [caller, row, may read, may write]
  const table: [string, Principal, keyof typeof rows, boolean, boolean][] = [
    ['admin', admin, 'self', true, true],
    ['admin', admin, 'colleague', true, true],
    ['admin', admin, 'adminHere', true, true],
    ['admin', admin, 'elsewhere', true, true],
    ['manager', manager, 'self', true, true],
    ['manager', manager, 'colleague', true, true],
    ['manager', manager, 'adminHere', true, false],
    ['manager', manager, 'elsewhere', false, false],
    ['employee', employee, 'self', true, false],
    ['employee', employee, 'colleague', false, false],
    ['employee', employee, 'adminHere', false, false],
    ['employee', employee, 'elsewhere', false, false],
  ];
  for (const [who, p, row, read, write] of table) {
    assert.equal(inScope(readScope(p), rows[row]), read, `${who} reads ${row}`);
    const w = writeScope(p);
    assert.equal(w !== undefined && inScope(w, rows[row]), write, `${who} writes ${row}`);
  }
});

test('which values a caller may give a user', () => {
  const table: [
    string,
    Principal,
    { role?: 'employee' | 'manager' | 'admin'; locationId?: number },
    RegExp | undefined,
  ][] = [
    ['admin makes an admin anywhere', admin, { role: 'admin', locationId: 9 }, undefined],
    ['manager hires at their location', manager, { role: 'employee', locationId: 2 }, undefined],
    ['manager promotes to manager', manager, { role: 'manager' }, undefined],
    ['manager renames (no role or location)', manager, {}, undefined],
    [
      'manager makes an admin',
      manager,
      { role: 'admin', locationId: 1 },
      /may not make anyone an admin/,
    ],
    [
      'manager hires elsewhere',
      manager,
      { role: 'employee', locationId: 3 },
      /their locations \(1, 2\)/,
    ],
    ['employee changes anything', employee, {}, /employees may not/],
    ['employee changes own location', employee, { locationId: 1 }, /employees may not/],
  ];
  for (const [label, p, values, expected] of table) {
    const r = refusal(p, values);
    if (expected) assert.match(r ?? '', expected, label);
    else assert.equal(r, undefined, label);
  }
});
