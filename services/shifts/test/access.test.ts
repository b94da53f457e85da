import { test } from 'node:test';
import { assertRefusals, assertScopes, ME, OTHER } from '@shiftops/service-kit/testing';
import { inScope, readScope, refusal, writeScope } from '../src/access.js';

const rows = {
  mine: { userId: ME, locationId: 3 },
  colleagueHere: { userId: OTHER, locationId: 1 },
  colleagueThere: { userId: OTHER, locationId: 2 },
  elsewhere: { userId: OTHER, locationId: 3 },
} as const;

test('who sees which shift (read) and who may change it (write)', () => {
  assertScopes({ readScope, writeScope, inScope }, rows, [
    ['admin', 'mine', true, true],
    ['admin', 'colleagueHere', true, true],
    ['admin', 'elsewhere', true, true],
    ['manager', 'mine', false, false],
    ['manager', 'colleagueHere', true, true],
    ['manager', 'colleagueThere', true, true],
    ['manager', 'elsewhere', false, false],
    ['employee', 'mine', true, false],
    ['employee', 'colleagueHere', false, false],
    ['employee', 'elsewhere', false, false],
  ]);
});

test('which values a caller may give a shift', () => {
  assertRefusals(refusal, [
    ['admin schedules anywhere', 'admin', { locationId: 9 }, undefined],
    ['manager schedules at their location', 'manager', { locationId: 2 }, undefined],
    ['manager changes the time only', 'manager', {}, undefined],
    ['manager schedules elsewhere', 'manager', { locationId: 3 }, /their locations \(1, 2\)/],
    ['employee schedules themself', 'employee', { locationId: 1 }, /employees may not/],
  ]);
});
