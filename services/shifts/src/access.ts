import type { Principal } from '@shiftops/service-kit';
import type { Shift } from './schemas.js';

/**
 * Who may see and change which shifts, decided from the token's claims alone (no call to the
 * users service):
 *   admin    every shift, every change
 *   manager  the shifts of their locations; may not move a shift to a location not theirs
 *   employee their own shifts (userId = their id), read only
 * The repository turns a scope into a WHERE clause, so lists and items never leave it.
 */
export type ShiftScope =
  | { kind: 'all' }
  | { kind: 'locations'; locations: readonly number[] }
  | { kind: 'user'; userId: string };

type Row = Pick<Shift, 'userId' | 'locationId'>;

export function readScope(p: Principal): ShiftScope {
  if (p.role === 'admin') return { kind: 'all' };
  if (p.role === 'manager') return { kind: 'locations', locations: p.locations };
  return { kind: 'user', userId: p.userId };
}

/** The shifts this caller may change or delete, or undefined when they may change none. */
export function writeScope(p: Principal): ShiftScope | undefined {
  return p.role === 'employee' ? undefined : readScope(p);
}

/** Why the caller may not give a shift these values (create or change), or undefined. */
export function refusal(p: Principal, values: { locationId?: number }): string | undefined {
  if (p.role === 'admin') return undefined;
  if (p.role === 'employee') return 'employees may not create or change shifts';
  if (values.locationId !== undefined && !p.locations.includes(values.locationId)) {
    return `managers may only manage shifts of their locations (${p.locations.join(', ') || 'none'})`;
  }
  return undefined;
}

/** The scope as a predicate on one row: the meaning the repository's SQL must have. */
export function inScope(scope: ShiftScope, row: Row): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'user':
      return row.userId === scope.userId;
    case 'locations':
      return scope.locations.includes(row.locationId);
  }
}
