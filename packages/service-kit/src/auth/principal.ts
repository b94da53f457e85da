/** Who is calling, as the token says: the only input the services' access rules get. */
export type Role = 'employee' | 'manager' | 'admin';

export interface Principal {
  /** The caller's id in the users service. */
  readonly userId: string;
  readonly role: Role;
  /** The locations the caller belongs to (managers act on these). */
  readonly locations: readonly number[];
}

const ROLES: readonly string[] = ['employee', 'manager', 'admin'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LOCATIONS = 1000;

/**
 * Reads the principal from verified claims: `<prefix>user_id` (or `sub`), `<prefix>role`,
 * `<prefix>locations` (array of location ids, or one id). Returns the reason when the token
 * does not describe a caller the rules can judge.
 */
export function principalFromClaims(
  claims: Record<string, unknown>,
  prefix = '',
): Principal | { error: string } {
  const userId = claims[`${prefix}user_id`] ?? claims['sub'];
  if (typeof userId !== 'string' || !UUID.test(userId)) {
    return { error: `the token's ${prefix}user_id (or sub) claim must be a user id (UUID)` };
  }
  const role = claims[`${prefix}role`];
  if (typeof role !== 'string' || !ROLES.includes(role)) {
    return { error: `the token's ${prefix}role claim must be one of ${ROLES.join(', ')}` };
  }
  const raw = claims[`${prefix}locations`] ?? [];
  const list = Array.isArray(raw) ? raw : [raw];
  const locations = list.map((l) => (typeof l === 'string' && /^\d+$/.test(l) ? Number(l) : l));
  if (
    locations.length > MAX_LOCATIONS ||
    !locations.every((l) => Number.isSafeInteger(l) && (l as number) >= 1)
  ) {
    return { error: `the token's ${prefix}locations claim must be a list of location ids` };
  }
  return Object.freeze({
    userId: userId.toLowerCase(),
    role: role as Role,
    locations: Object.freeze([...new Set(locations as number[])]),
  });
}
