// The statements the repositories send for the benchmark's scenarios, copied so the baselines
// run the same SQL text without importing service code; bench/test/sql.test.ts captures what the
// repositories really send and fails when these drift.

const USER_COLUMNS =
  'id, email, first_name, last_name, role, location_id, active, version, created_at, updated_at';

const SHIFT_COLUMNS = `id, user_id, location_id, position, starts_at, ends_at, break_minutes, notes,
  published, version, created_at, updated_at`;

/** $1 = id */
export const getUser = `SELECT ${USER_COLUMNS} FROM users.users WHERE id = $1`;

/** $1 = limit + 1 */
export const listUsersFirstPage = `SELECT ${USER_COLUMNS} FROM users.users
      
      ORDER BY id LIMIT $1`;

/** $1 = the last id of the previous page, $2 = limit + 1 */
export const listUsersAfter = `SELECT ${USER_COLUMNS} FROM users.users
      WHERE id > $1
      ORDER BY id LIMIT $2`;

/** Not ours: the OFFSET pagination a keyset page is compared with. $1 = limit + 1, $2 = offset */
export const listUsersOffset = `${listUsersFirstPage} OFFSET $2`;

/** $1 = locationId, $2 = from, $3 = to, $4 = limit + 1 */
export const listShiftsOfLocation = `SELECT ${SHIFT_COLUMNS} FROM shifts.shifts
      WHERE location_id = $1 AND ends_at > $2::timestamptz AND starts_at > $2::timestamptz - interval '24 hours' AND starts_at < $3::timestamptz
      ORDER BY starts_at, id LIMIT $4`;

/** $1..$8 = userId, locationId, position, startsAt, endsAt, breakMinutes, notes, published */
export const createShift = `INSERT INTO shifts.shifts
           (user_id, location_id, position, starts_at, ends_at, break_minutes, notes, published)
         VALUES ($1, $2, $3, date_trunc('milliseconds', $4::timestamptz), date_trunc('milliseconds', $5::timestamptz), $6, $7, $8) RETURNING ${SHIFT_COLUMNS}`;
