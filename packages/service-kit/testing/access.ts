import assert from 'node:assert/strict';
import type { Principal, Role } from '../src/index.js';

/** The caller of the services' rule tables, and someone else. */
export const ME = 'aaaaaaaa-0000-4000-8000-000000000001';
export const OTHER = 'aaaaaaaa-0000-4000-8000-000000000002';

/** ME in each role: an admin, a manager of locations 1 and 2, an employee at location 1. */
export const callers: Readonly<Record<Role, Principal>> = Object.freeze({
  admin: { userId: ME, role: 'admin', locations: [] },
  manager: { userId: ME, role: 'manager', locations: [1, 2] },
  employee: { userId: ME, role: 'employee', locations: [1] },
});

/** A service's access rules as the tables see them (its src/access.ts). */
export interface ScopeRules<Scope, Row> {
  readScope(p: Principal): Scope;
  writeScope(p: Principal): Scope | undefined;
  inScope(scope: Scope, row: Row): boolean;
}

/** Each `[caller, row, may read, may write]` against the rules (no write scope: may not write). */
export function assertScopes<Scope, Row, Name extends string>(
  rules: ScopeRules<Scope, Row>,
  rows: Readonly<Record<Name, Row>>,
  table: readonly (readonly [Role, Name, boolean, boolean])[],
): void {
  for (const [role, row, read, write] of table) {
    const p = callers[role];
    assert.equal(rules.inScope(rules.readScope(p), rows[row]), read, `${role} reads ${row}`);
    const w = rules.writeScope(p);
    assert.equal(w !== undefined && rules.inScope(w, rows[row]), write, `${role} writes ${row}`);
  }
}

/** Each `[label, caller, values, refusal matching this or undefined for allowed]`. */
export function assertRefusals<Values>(
  refusal: (p: Principal, values: Values) => string | undefined,
  table: readonly (readonly [string, Role, Values, RegExp | undefined])[],
): void {
  for (const [label, role, values, expected] of table) {
    const r = refusal(callers[role], values);
    if (expected) assert.match(r ?? '', expected, label);
    else assert.equal(r, undefined, label);
  }
}
