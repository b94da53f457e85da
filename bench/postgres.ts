// The benchmark's PostgreSQL server with the seeded data set. Seeding 100k users and 1M shifts
// takes about a minute, so the seeded data directory is kept under ~/.cache/shiftops/bench, keyed
// by everything that shapes it, and later runs start on a copy of it in a second or two.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../packages/service-kit/testing/postgres-server.js';

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]) {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function ownedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout);
    chownSync(dir, uid, gid);
  }
  return dir;
}

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

async function startOn(bin: string, dir: string, data: string) {
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c synchronous_commit=off',
    '-c max_connections=200',
    // The data set (~400 MB) is served from shared buffers, as a production server would.
    '-c shared_buffers=1GB',
    // Autovacuum waking up halfway through a measurement would be noise: run.ts vacuums first.
    '-c autovacuum=off',
  ].join(' ');
  run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  let running = true;
  const stop = () => {
    if (!running) return;
    running = false;
    run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  };
  // Whatever way the run ends, no server is left behind.
  process.once('exit', () => {
    if (running) {
      const argv = ['-D', data, '-m', 'immediate', 'stop'];
      spawnSync(
        asRoot ? 'runuser' : join(bin, 'pg_ctl'),
        asRoot ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...argv] : argv,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { port, stop };
}

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
  const cacheDir = join(homedir(), '.cache/shiftops/bench', `pgdata-${cacheKey(root, bin, users)}`);
  const dir = ownedTempDir('shiftops-bench-pg-');
  const data = join(dir, 'data');
  const cached = useCache && existsSync(cacheDir);
  const t0 = performance.now();
  if (cached) {
    // cp keeps the postgres user as owner when run as root.
    execFileSync('cp', ['-a', cacheDir, data]);
  } else {
    run(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
  }
  let server = await startOn(bin, dir, data);
  const urlOf = (port: number, db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  if (!cached) {
    const admin = new pg.Client({ connectionString: urlOf(server.port, 'postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    await seed(root, urlOf(server.port, 'bench'), users);
    if (useCache) {
      server.stop();
      mkdirSync(join(cacheDir, '..'), { recursive: true });
      const partial = `${cacheDir}.partial-${process.pid}`;
      execFileSync('cp', ['-a', data, partial]);
      renameSync(partial, cacheDir);
      server = await startOn(bin, dir, data);
    }
  }
  const ms = performance.now() - t0;
  return { url: urlOf(server.port, 'bench'), seed: { cached, ms, cacheDir }, stop: server.stop };
}
