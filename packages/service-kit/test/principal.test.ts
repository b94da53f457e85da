import assert from 'node:assert/strict';
import { test } from 'node:test';
import { principalFromClaims } from '../src/index.js';

const id = '0f6b1c2e-3a4d-4e5f-8a9b-0c1d2e3f4a5b';

test('claims → principal: what each shape of token means', () => {
  const cases: [string, Record<string, unknown>, string, unknown][] = [
    [
      'employee with one location',
      { sub: id, role: 'employee', locations: [3] },
      '',
      { userId: id, role: 'employee', locations: [3] },
    ],
    [
      'manager of two, duplicates dropped',
      { sub: id, role: 'manager', locations: [1, 2, 2] },
      '',
      { userId: id, role: 'manager', locations: [1, 2] },
    ],
    [
      'a single location as a number',
      { sub: id, role: 'manager', locations: 4 },
      '',
      { userId: id, role: 'manager', locations: [4] },
    ],
    [
      'locations as strings (Cognito attributes are strings)',
      { sub: id, role: 'manager', locations: ['4', '5'] },
      '',
      { userId: id, role: 'manager', locations: [4, 5] },
    ],
    [
      'admin without locations',
      { sub: id, role: 'admin' },
      '',
      { userId: id, role: 'admin', locations: [] },
    ],
    [
      'user_id wins over sub (an IdP whose sub is its own id)',
      { sub: 'auth0|abc', user_id: id.toUpperCase(), role: 'employee' },
      '',
      { userId: id, role: 'employee', locations: [] },
    ],
    [
      'prefixed claims',
      { sub: id, 'https://shiftops.dev/role': 'manager', 'https://shiftops.dev/locations': [9] },
      'https://shiftops.dev/',
      { userId: id, role: 'manager', locations: [9] },
    ],
    [
      'unprefixed role ignored when a prefix is set',
      { sub: id, role: 'admin' },
      'custom:',
      { error: "the token's custom:role claim must be one of employee, manager, admin" },
    ],
    [
      'no role',
      { sub: id },
      '',
      { error: "the token's role claim must be one of employee, manager, admin" },
    ],
    [
      'unknown role',
      { sub: id, role: 'owner' },
      '',
      { error: "the token's role claim must be one of employee, manager, admin" },
    ],
    [
      'sub not a user id',
      { sub: 'alice', role: 'admin' },
      '',
      { error: "the token's user_id (or sub) claim must be a user id (UUID)" },
    ],
    [
      'no sub',
      { role: 'admin' },
      '',
      { error: "the token's user_id (or sub) claim must be a user id (UUID)" },
    ],
    [
      'location 0',
      { sub: id, role: 'manager', locations: [0] },
      '',
      { error: "the token's locations claim must be a list of location ids" },
    ],
    [
      'location as an object',
      { sub: id, role: 'manager', locations: [{ id: 1 }] },
      '',
      { error: "the token's locations claim must be a list of location ids" },
    ],
    [
      'fractional location',
      { sub: id, role: 'manager', locations: [1.5] },
      '',
      { error: "the token's locations claim must be a list of location ids" },
    ],
  ];
  for (const [label, claims, prefix, expected] of cases) {
    assert.deepEqual(principalFromClaims(claims, prefix), expected, label);
  }
});
