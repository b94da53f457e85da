import { test } from 'node:test';
import { assertRefusals, assertScopes, ME, OTHER } from '@shiftops/service-kit/testing';
import { inScope, readScope, refusal, writeScope } from '../src/access.js';

const rows = {
  self: { id: ME, role: 'manager', locationId: 1 },
  colleague: { id: OTHER, role: 'employee', locationId: 1 },
  adminHere: { id: OTHER, role: 'admin', locationId: 2 },
  elsewhere: { id: OTHER, role: 'employee', locationId: 3 },
} as const;

test('who sees which user (read) and who may change it (write)', () => {
  assertScopes({ readScope, writeScope, inScope }, rows, [
    ['admin', 'self', true, true],
    ['admin', 'colleague', true, true],
    ['admin', 'adminHere', true, true],
    ['admin', 'elsewhere', true, true],
    ['manager', 'self', true, true],
    ['manager', 'colleague', true, true],
    ['manager', 'adminHere', true, false],
    ['manager', 'elsewhere', false, false],
    ['employee', 'self', true, false],
    ['employee', 'colleague', false, false],
    ['employee', 'adminHere', false, false],
    ['employee', 'elsewhere', false, false],
  ]);
});

test('which values a caller may give a user', () => {
  assertRefusals(refusal, [
    ['admin makes an admin anywhere', 'admin', { role: 'admin', locationId: 9 }, undefined],
    ['manager hires at their location', 'manager', { role: 'employee', locationId: 2 }, undefined],
    ['manager promotes to manager', 'manager', { role: 'manager' }, undefined],
    ['manager renames (no role or location)', 'manager', {}, undefined],
    [
      'manager makes an admin',
      'manager',
      { role: 'admin', locationId: 1 },
      /may not make anyone an admin/,
    ],
    [
      'manager hires elsewhere',
      'manager',
      { role: 'employee', locationId: 3 },
      /their locations \(1, 2\)/,
    ],
    ['employee changes anything', 'employee', {}, /employees may not/],
    ['employee changes own location', 'employee', { locationId: 1 }, /employees may not/],
  ]);
});
