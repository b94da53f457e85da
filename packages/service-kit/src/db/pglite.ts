import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { claimDataDir, openFailed } from './data-dir.js';
import { withTimeout, type Database, type Queryable, type QueryResult } from './database.js';
import { parseTimestamptz } from './postgres.js';

// PGlite's own timestamptz parser hands "0001-01-01 00:00:00+00" to Date's legacy parsing, which
// reads years below 100 as 19xx/20xx; both backends use the same exact parser instead.
const TIMESTAMPTZ = 1184;

export interface PGliteOptions {
  /** Directory to persist to; omit for an in-memory database. */
  dataDir?: string;
  /** A data directory tarball (PGlite dumpDataDir) to start from: tests clone a migrated template. */
  loadDataDir?: Blob;
}

function wrap(db: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await db.query<R>(text, params);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/** In-process PostgreSQL (WebAssembly) for laptops and tests: nothing to install. */
export async function openPGlite(options: PGliteOptions = {}): Promise<Database & { raw: PGlite }> {
  const release = options.dataDir ? await claimDataDir(options.dataDir) : async () => {};
  let db: PGlite;
  try {
    db = await PGlite.create({
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      extensions: { btree_gist },
      parsers: { [TIMESTAMPTZ]: parseTimestamptz },
    });
  } catch (err) {
    await release();
    throw options.dataDir ? openFailed(options.dataDir, err) : err;
  }
  const q = wrap(db);
  return {
    kind: 'pglite',
    raw: db,
    query: q.query,
    exec: q.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async ping(timeoutMs: number) {
      await withTimeout(db.query('SELECT 1'), timeoutMs, 'database ping');
    },
    // One in-process connection; PGlite queues concurrent queries itself.
    stats: () => ({ total: 1, idle: 1, waiting: 0, max: 1 }),
    async close() {
      if (!db.closed) {
        await db.close();
        await release();
      }
    },
  };
}
