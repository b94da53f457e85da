import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './database.js';

// One key for every service: on a shared staging database two services migrating at once would
// otherwise race on CREATE EXTENSION, and the lock is only held for the seconds a migration takes.
const MIGRATION_LOCK_KEY = 7_415_628_001;

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies numbered SQL files (001_name.sql, ...) from dir that are not yet recorded in
 * <schema>.schema_migrations, all in one transaction under an advisory lock, so replicas that
 * start together apply each file exactly once and a failed file leaves nothing half-applied.
 */
export async function migrate(db: Database, schema: string, dir: string): Promise<MigrationResult> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema};
      CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      );`);
    const done = await tx.query<{ version: number }>(
      `SELECT version FROM ${schema}.schema_migrations`,
    );
    const appliedVersions = new Set(done.rows.map((r) => r.version));
    const applied: string[] = [];
    for (const file of files) {
      const version = Number.parseInt(file, 10);
      if (appliedVersions.has(version)) continue;
      await tx.exec(await readFile(join(dir, file), 'utf8'));
      await tx.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [
        version,
        file,
      ]);
      applied.push(file);
    }
    return { applied };
  });
}
