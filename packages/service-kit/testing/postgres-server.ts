import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL server for tests, started from this machine's binaries: initdb into a
 * temporary directory, listen on a free loopback port, trust auth. PostgreSQL refuses to run as
 * root, so under root every command runs as the `postgres` user.
 */
export interface PostgresServer {
  /** Connection URL of the `postgres` database as superuser. */
  url: string;
  port: number;
  /** The data directory, owned by the server's user (copy it only while stopped). */
  dataDir: string;
  stop(): void;
  start(): void;
  destroy(): void;
}

export function postgresBinDir(): string | undefined {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const candidates = [
    fromConfig.status === 0 ? fromConfig.stdout.trim() : '',
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
  ];
  return candidates.find(
    (dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]) {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface PostgresServerOptions {
  /** More `-c name=value` settings, e.g. for a benchmark. */
  settings?: Record<string, string>;
  /** Start from a copy of this (stopped) data directory instead of running initdb. */
  copyDataFrom?: string;
  /** This port instead of a free one (with `listen_addresses` in settings: e.g. a bridge's). */
  port?: number;
  /** Lines added to pg_hba.conf, e.g. password logins from a pod network. */
  hba?: string[];
}

export async function startPostgresServer(
  options: PostgresServerOptions = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found: install them (apt-get install postgresql) or set PG_BINDIR',
    );
  }
  // Under root the server runs as postgres, which must be able to reach its directory: a private
  // TMPDIR (e.g. a test runner's mktemp -d, mode 0700) is not reachable, /tmp is.
  const parent = asRoot && (statSync(tmpdir()).mode & 0o001) === 0 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(parent, 'shiftops-pg-'));
  if (asRoot) {
    const pg = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pg.stdout), Number(gid.stdout));
  }
  const data = join(dir, 'data');
  const port = options.port ?? (await freePort());
  if (options.copyDataFrom) {
    // cp -a keeps the postgres user as owner when run as root.
    execFileSync('cp', ['-a', options.copyDataFrom, data]);
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
  if (options.hba?.length) appendFileSync(join(data, 'pg_hba.conf'), `${options.hba.join('\n')}\n`);
  const settings = {
    listen_addresses: "'127.0.0.1'",
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...options.settings,
  };
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');
  let running = false;
  const server: PostgresServer = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: data,
    start() {
      if (running) return;
      run(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-o',
        serverOptions,
        '-l',
        join(dir, 'log'),
        '-w',
        'start',
      ]);
      running = true;
    },
    stop() {
      if (!running) return;
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      running = false;
    },
    destroy() {
      try {
        server.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  // Never leave a server behind, whatever way the test process ends.
  process.once('exit', () => {
    if (running)
      spawnSync(
        asRoot ? 'runuser' : join(bin, 'pg_ctl'),
        asRoot
          ? ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']
          : ['-D', data, '-m', 'immediate', 'stop'],
      );
    rmSync(dir, { recursive: true, force: true });
  });
  server.start();
  return server;
}
