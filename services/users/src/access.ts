import type { Principal } from '@shiftops/service-kit';
import type { User } from './schemas.js';

/**
 * Who may see and change which users, decided from the token's claims alone:
 *   admin    every user, every change
 *   manager  the users of their locations; may not create, change or delete an admin, make
 *            anyone an admin, or move a user to a location that is not theirs
 *   employee their own user, read only
 * The repository turns a scope into a WHERE clause, so lists and items never leave it.
 */
export type UserScope =
  | { kind: 'all' }
  | { kind: 'locations'; locations: readonly number[]; exceptAdmins?: boolean }
  | { kind: 'self'; userId: string };

type Row = Pick<User, 'id' | 'role' | 'locationId'>;

export function readScope(p: Principal): UserScope {
  if (p.role === 'admin') return { kind: 'all' };
  if (p.role === 'manager') return { kind: 'locations', locations: p.locations };
  return { kind: 'self', userId: p.userId };
}

/** The users this caller may change or delete, or undefined when they may change none. */
export function writeScope(p: Principal): UserScope | undefined {
  if (p.role === 'admin') return { kind: 'all' };
  if (p.role === 'manager')
    return { kind: 'locations', locations: p.locations, exceptAdmins: true };
  return undefined;
}

/** Why the caller may not give a user these values (create or change), or undefined. */
export function refusal(
  p: Principal,
  values: { role?: User['role']; locationId?: number },
): string | undefined {
  if (p.role === 'admin') return undefined;
  if (p.role === 'employee') return 'employees may not create or change users';
  if (values.role === 'admin') return 'managers may not make anyone an admin';
  if (values.locationId !== undefined && !p.locations.includes(values.locationId)) {
    return `managers may only manage users of their locations (${p.locations.join(', ') || 'none'})`;
  }
  return undefined;
}

/** The scope as a predicate on one row: the meaning the repository's SQL must have. */
export function inScope(scope: UserScope, row: Row): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'self':
      return row.id === scope.userId;
    case 'locations':
      return (
        scope.locations.includes(row.locationId) && !(scope.exceptAdmins && row.role === 'admin')
      );
  }
}
