// The benchmark's PostgreSQL server with the seeded data set. Seeding 100k users and 1M shifts
// takes about a minute, so the seeded data directory is kept under
// ${SHIFTOPS_CACHE:-~/.cache/shiftops}/bench, keyed by everything that shapes it, and later runs
// start on a copy of it in a second or two.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresServer } from '../packages/service-kit/testing/postgres-server.js';

export interface BenchPostgres {
  /** URL of the `bench` database. */
  url: string;
  /** How the data got there: seeded now (with the time it took) or copied from the cache. */
  seed: { cached: boolean; ms: number; cacheDir: string };
  stop(): void;
}

/** A key that changes whenever the schema, the seed, the size or the server version does. */
function cacheKey(root: string, bin: string, users: number): string {
  const h = createHash('sha256');
  for (const svc of ['users', 'shifts']) {
    const dir = join(root, 'services', svc, 'migrations');
    for (const f of readdirSync(dir).sort()) h.update(readFileSync(join(dir, f)));
    h.update(readFileSync(join(root, 'services', svc, 'src/repository.ts')));
  }
  h.update(execFileSync(join(bin, 'postgres'), ['--version']));
  h.update(String(users));
  return h.digest('hex').slice(0, 16);
}

// Served from shared buffers, as a production server would; autovacuum waking up halfway through a
// measurement would be noise (run.ts vacuums first).
const BENCH_SETTINGS = { synchronous_commit: 'off', shared_buffers: '1GB', autovacuum: 'off' };

async function seed(root: string, url: string, users: number) {
  await Promise.all(
    (['users', 'shifts'] as const).map(
      (svc) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [`services/${svc}/dist/server.js`, 'seed', String(users)],
            {
              cwd: root,
              env: {
                ...process.env,
                DATABASE_URL: url,
                LOG_LEVEL: 'warn',
                // One INSERT ... SELECT of a million rows: far beyond the serving timeout.
                DB_STATEMENT_TIMEOUT_MS: '600000',
                // Seeding serves no request, so it verifies no token: no issuer to configure.
                AUTH: 'disabled',
              },
              stdio: 'inherit',
            },
          );
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`seed ${svc}: exit ${code}`)),
          );
        }),
    ),
  );
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  await db.query('VACUUM ANALYZE');
  await db.query('CHECKPOINT');
  await db.end();
}

export async function startBenchPostgres(
  root: string,
  bin: string,
  users: number,
  useCache: boolean,
): Promise<BenchPostgres> {
  const cacheRoot = process.env.SHIFTOPS_CACHE ?? join(homedir(), '.cache/shiftops');
  const cacheDir = join(cacheRoot, 'bench', `pgdata-${cacheKey(root, bin, users)}`);
  const cached = useCache && existsSync(cacheDir);
  const t0 = performance.now();
  const server = await startPostgresServer({
    settings: BENCH_SETTINGS,
    ...(cached ? { copyDataFrom: cacheDir } : {}),
  });
  const benchUrl = server.url.replace(/\/postgres$/, '/bench');
  if (!cached) {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    await seed(root, benchUrl, users);
    if (useCache) {
      server.stop();
      mkdirSync(join(cacheDir, '..'), { recursive: true });
      const partial = `${cacheDir}.partial-${process.pid}`;
      execFileSync('cp', ['-a', server.dataDir, partial]);
      renameSync(partial, cacheDir);
      server.start();
    }
  }
  const ms = performance.now() - t0;
  return { url: benchUrl, seed: { cached, ms, cacheDir }, stop: () => server.destroy() };
}
