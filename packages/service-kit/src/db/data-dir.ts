import { constants } from 'node:fs';
import { access, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';

/** The embedded database cannot use its directory; the message names the directory and the fix. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

const LOCK_NAME = 'shiftops.lock';
// The lock's mtime is refreshed every STALE_MS / 2 while held, so a lock left by a killed process
// is taken over after STALE_MS; retrying for longer than that tells "held" from "left behind".
const STALE_MS = 4000;

const fix = (dir: string, what: string) =>
  `set DATA_DIR to ${what} (with npm start: a root holding one directory per service), or move ${dir} away`;

/**
 * Makes sure `dir` can hold this process's PGlite database before PGlite touches it: creatable,
 * writable, empty or already a PostgreSQL data directory, and used by no other process. PGlite
 * itself would start a second writer on the same files, or initialise a cluster inside any folder
 * it is given, and report failures as bare errnos. Returns the function that releases the lock.
 */
export async function claimDataDir(dir: string): Promise<() => Promise<void>> {
  const where = resolve(dir);
  try {
    await mkdir(where, { recursive: true });
  } catch (err) {
    throw new DataDirError(
      `cannot create the PGlite data directory ${where} (${(err as NodeJS.ErrnoException).code}): ${fix(where, 'a directory you can create')}`,
    );
  }
  try {
    await access(where, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch {
    throw new DataDirError(
      `the PGlite data directory ${where} is not writable by this user: ${fix(where, 'a writable directory')}, or fix its permissions`,
    );
  }
  const entries = (await readdir(where)).filter((e) => e !== LOCK_NAME);
  if (entries.length > 0 && !entries.includes('PG_VERSION')) {
    throw new DataDirError(
      `${where} is not a PGlite data directory (it holds other files and no PG_VERSION): ${fix(where, 'an empty or new directory')}`,
    );
  }
  try {
    return await lockfile.lock(where, {
      lockfilePath: join(where, LOCK_NAME),
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 7, factor: 1, minTimeout: STALE_MS / 4, maxTimeout: STALE_MS / 4 },
      // Losing the lock means another process may be writing the same files: stop at once.
      onCompromised: (err) => {
        process.stderr.write(`PGlite data directory ${where} lock lost: ${err.message}\n`);
        process.exit(1);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new DataDirError(
        `the PGlite data directory ${where} is in use by another process (another service or a second npm start): stop that process, or ${fix(where, 'a directory of its own')}`,
      );
    }
    throw new DataDirError(
      `cannot lock the PGlite data directory ${where} (${(err as Error).message}): ${fix(where, 'a writable directory')}`,
    );
  }
}

/** Wraps PGlite's own start-up failure (often a bare ErrnoError) in a message that says what to do. */
export function openFailed(dir: string, err: unknown): DataDirError {
  const e = err as { message?: unknown; errno?: unknown };
  const cause =
    typeof e?.message === 'string' && e.message ? e.message : `errno ${String(e?.errno)}`;
  return new DataDirError(
    `PGlite could not open the data directory ${resolve(dir)} (${cause}); it may be damaged or come from another PostgreSQL or PGlite version: ${fix(resolve(dir), 'an empty directory')} (its data is kept there)`,
  );
}
