import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createTestDatabase, openTestPostgres, postgresUrl } from '../testing/index.js';
import { migrate } from '../src/index.js';

const url = postgresUrl();

const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function migrationsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  made.push(dir);
  writeFileSync(join(dir, '001_things.sql'), 'CREATE TABLE demo.things (id int PRIMARY KEY);');
  // Slow enough that two migrators really overlap.
  writeFileSync(
    join(dir, '002_more.sql'),
    'SELECT pg_sleep(0.3); ALTER TABLE demo.things ADD COLUMN name text;',
  );
  writeFileSync(join(dir, 'README.md'), 'not a migration');
  return dir;
}

describe('migrations on PostgreSQL', { skip: url ? false : 'no PostgreSQL server' }, () => {
  test('two migrators started together apply each file exactly once, without error', async () => {
    const database = await createTestDatabase(url!);
    const a = openTestPostgres(database.url, 2);
    const b = openTestPostgres(database.url, 2);
    try {
      const dir = migrationsDir();
      const results = await Promise.all([migrate(a, 'demo', dir), migrate(b, 'demo', dir)]);
      const applied = results.map((r) => r.applied).sort((x, y) => y.length - x.length);
      assert.deepEqual(applied, [['001_things.sql', '002_more.sql'], []]);
      const rows = await a.query<{ version: number }>(
        'SELECT version FROM demo.schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        rows.rows.map((r) => r.version),
        [1, 2],
      );
      assert.deepEqual(
        (await migrate(a, 'demo', dir)).applied,
        [],
        'a third run has nothing to do',
      );
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });

  test('a failing migration leaves nothing half-applied', async () => {
    const database = await createTestDatabase(url!);
    const db = openTestPostgres(database.url, 2);
    try {
      const dir = migrationsDir();
      writeFileSync(
        join(dir, '003_broken.sql'),
        'ALTER TABLE demo.things ADD COLUMN x int; SELECT no_such_function();',
      );
      await assert.rejects(migrate(db, 'demo', dir), /no_such_function/);
      const schema = await db.query(
        "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'demo'",
      );
      assert.equal(schema.rowCount, 0, 'the whole run was rolled back');
    } finally {
      await db.close();
      await database.drop();
    }
  });
});
