// The images cluster/images/build.sh builds, run the way a restricted pod runs them (runc on the
// image's read-only root, as its user, no capabilities): each service's good release serves on
// Node 24 against PostgreSQL and drains on SIGTERM; each FAULT release behaves as docs/images.md
// says; the PostgreSQL image initialises its data directory, requires the password and keeps its
// data across a restart; pause stays up and exits 0 on SIGTERM.
// Needs root, buildah and runc (build.sh installs what is missing); under CI=true nothing skips.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  bearer,
  createTestDatabase,
  postgresUrl,
  testAuthEnv,
} from '../../../packages/service-kit/testing/index.js';
import { imageConfig, mountImage, removeRuncRoot, runImage, type Container } from './runc.js';

const repo = new URL('../../../', import.meta.url).pathname;
const root = process.getuid?.() === 0;
const skip = !root && process.env.CI !== 'true' ? 'needs root (buildah, runc)' : false;
const NODE_VERSION = /NODE_VERSION=(\S+)/.exec(
  spawnSync('cat', [join(repo, 'cluster/images/versions.env')], { encoding: 'utf8' }).stdout,
)![1]!;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers,
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.text(), ms: performance.now() - t0 };
  } catch {
    return { status: 0, body: '', ms: performance.now() - t0 };
  }
}

async function until(what: string, c: Container, check: () => Promise<boolean>, ms = 90_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) {
    if (c.process.exitCode !== null)
      assert.fail(`${what}: exited ${c.process.exitCode}\n${c.output()}`);
    if (await check()) return;
  }
  assert.fail(`${what}: not within ${ms} ms\n${c.output()}`);
}

describe(
  'local images, run as restricted pods run them',
  { skip, timeout: 45 * 60_000, concurrency: 1 },
  () => {
    const containers: Container[] = [];
    const drops: Array<() => Promise<void>> = [];
    let auth: Record<string, string> = {};

    before(async () => {
      auth = await bearer();
      // Cached images are reused: seconds when nothing changed, minutes cold.
      const r = spawnSync('bash', [join(repo, 'cluster/images/build.sh')], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        maxBuffer: 64 << 20,
      });
      process.stdout.write(
        r.stdout
          .split('\n')
          .filter((l) => /SIZE|^docker|^localhost|done in|archive/.test(l))
          .map((l) => `# ${l}\n`)
          .join(''),
      );
      assert.equal(r.status, 0, `build.sh failed:\n${r.stdout}\n${r.stderr}`);
    });
    after(async () => {
      for (const c of containers) await c.remove();
      for (const drop of drops) await drop();
      removeRuncRoot();
    });

    /**
     * A service image on a fresh database, its API and operations ports on free ports of
     * 127.0.0.1 (the container shares the host's network, so not the pod's fixed 9090).
     */
    async function startService(service: string, tag: string) {
      const db = await createTestDatabase(postgresUrl()!);
      drops.push(db.drop);
      const port = await freePort();
      const opsPort = await freePort();
      const c = runImage(`docker.io/shiftops/${service}:${tag}`, {
        env: {
          PORT: String(port),
          OPS_PORT: String(opsPort),
          HOST: '127.0.0.1',
          DATABASE_URL: db.url,
          DRAIN_DELAY_MS: '1500',
          SHUTDOWN_TIMEOUT_MS: '3000',
          LOG_LEVEL: 'warn',
          // The images run NODE_ENV=production, which refuses to start without a token issuer.
          ...(await testAuthEnv()),
        },
      });
      containers.push(c);
      return { c, port, opsPort };
    }

    for (const service of ['users', 'shifts']) {
      it(`${service}:1.0.0: Node ${NODE_VERSION}, uid 1000, no sources or dev tools; ready on PostgreSQL, serves, drains on SIGTERM and exits 0`, async () => {
        const ref = `docker.io/shiftops/${service}:1.0.0`;
        const config = imageConfig(ref);
        assert.equal(config.User, '1000:1000');
        assert.equal(config.Labels?.['org.opencontainers.image.version'], '1.0.0');
        assert.equal(config.Labels?.['io.shiftops.fault'], 'none');
        const image = mountImage(ref);
        try {
          const node = spawnSync(join(image.root, 'usr/local/bin/node'), ['--version'], {
            encoding: 'utf8',
          });
          assert.equal(node.stdout.trim(), `v${NODE_VERSION}`);
          assert.ok(
            !existsSync(join(image.root, 'app/node_modules/typescript')),
            'typescript in the runtime image',
          );
          assert.ok(
            !existsSync(join(image.root, `app/services/${service}/src`)),
            'sources in the runtime image',
          );
          // buildah leaves the empty mount point of the build-stage CA; never its contents.
          const ca = join(image.root, 'run/build-ca.crt');
          assert.ok(
            !existsSync(ca) || statSync(ca).size === 0,
            'the build CA in the runtime image',
          );
        } finally {
          image.release();
        }

        const { c, port, opsPort } = await startService(service, '1.0.0');
        await until('ready', c, async () => (await get(opsPort, '/readyz')).status === 200);
        const version = JSON.parse((await get(opsPort, '/version')).body);
        assert.equal(version.version, '1.0.0');
        assert.equal((await get(port, `/v1/${service}?limit=1`, auth)).status, 200);
        assert.equal((await get(port, `/v1/${service}?limit=1`)).status, 401, 'no token');
        // The process is the container's PID 1, as the image's user.
        const status = spawnSync('cat', [`/proc/${c.hostPid()}/status`], {
          encoding: 'utf8',
        }).stdout;
        assert.match(status, /^NSpid:\s+\d+\s+1$/m);
        assert.match(status, /^Uid:\s+1000\s/m);
        assert.match(status, /^CapEff:\s+0+$/m);
        c.kill('TERM');
        await sleep(500);
        assert.equal(
          (await get(opsPort, '/readyz')).status,
          503,
          'draining: unready but still listening',
        );
        const code = await Promise.race([c.exited, sleep(20_000).then(() => 'timeout')]);
        assert.equal(code, 0, `exit after SIGTERM:\n${c.output()}`);
      });
    }

    it('users:1.2.0-crash exits 78 at start, naming the variable the manifests do not set', async () => {
      const { c } = await startService('users', '1.2.0-crash');
      const code = await Promise.race([c.exited, sleep(30_000).then(() => 'timeout')]);
      assert.equal(code, 78, c.output());
      assert.match(
        c.output(),
        /FEATURE_FLAGS_URL is required by this build \(FAULT=crash-at-start\)/,
      );
    });

    it('users:1.2.0 serves its API but /readyz stays 503 while /livez is 200', async () => {
      const { c, port, opsPort } = await startService('users', '1.2.0');
      // Started (migrated): the API answers; from then on readiness never comes.
      await until(
        'started',
        c,
        async () => (await get(port, '/v1/users?limit=1', auth)).status === 200,
      );
      for (let i = 0; i < 10; i++, await sleep(500)) {
        assert.equal((await get(opsPort, '/readyz')).status, 503);
        assert.equal((await get(opsPort, '/livez')).status, 200);
      }
      assert.equal(c.process.exitCode, null);
    });

    it('users:1.3.0-errors is ready and fails exactly 10% of API requests', async () => {
      const { c, port, opsPort } = await startService('users', '1.3.0-errors');
      await until('ready', c, async () => (await get(opsPort, '/readyz')).status === 200);
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++)
        statuses.push((await get(port, '/v1/users?limit=1', auth)).status);
      assert.equal(statuses.filter((s) => s === 500).length, 10, String(statuses));
      assert.equal(statuses.filter((s) => s === 200).length, 90);
    });

    it('users:1.3.0-slow is ready and every API request takes 200 ms more; probes do not', async () => {
      const { c, port, opsPort } = await startService('users', '1.3.0-slow');
      await until('ready', c, async () => (await get(opsPort, '/readyz')).status === 200);
      for (let i = 0; i < 5; i++) {
        const r = await get(port, '/v1/users?limit=1', auth);
        assert.equal(r.status, 200);
        assert.ok(r.ms >= 195, `took ${r.ms} ms`);
      }
      assert.ok((await get(opsPort, '/livez')).ms < 195);
    });

    it('postgres:15 initialises PGDATA, requires the password over TCP, keeps data across a restart', async () => {
      const data = mkdtempSync('/var/tmp/shiftops-pgdata-');
      drops.push(async () => rmSync(data, { recursive: true, force: true }));
      chownSync(data, 70, 70);
      const sockets = mkdtempSync('/var/tmp/shiftops-pgrun-');
      drops.push(async () => rmSync(sockets, { recursive: true, force: true }));
      chownSync(sockets, 70, 70);
      const port = await freePort();
      const start = () => {
        const c = runImage('docker.io/shiftops/postgres:15', {
          env: {
            POSTGRES_USER: 'shiftops',
            POSTGRES_PASSWORD: 'test-only',
            POSTGRES_DB: 'shiftops',
            PGDATA: '/var/lib/postgresql/data/pgdata',
          },
          args: [
            '/usr/local/bin/postgres-entrypoint',
            '-c',
            `port=${port}`,
            '-c',
            'listen_addresses=127.0.0.1',
            '-c',
            'max_connections=100',
          ],
          tmpfs: ['/tmp'],
          // Writable for uid 70 as the pod's emptyDir is with fsGroup 70.
          binds: [
            { source: data, destination: '/var/lib/postgresql/data' },
            { source: sockets, destination: '/var/run/postgresql' },
          ],
        });
        containers.push(c);
        return c;
      };
      const url = (password: string) =>
        `postgres://shiftops:${password}@127.0.0.1:${port}/shiftops`;
      const connect = async (password: string) => {
        const client = new pg.Client({ connectionString: url(password) });
        await client.connect();
        return client;
      };
      let c = start();
      let client: pg.Client | undefined;
      await until('accepting connections', c, async () => {
        client = await connect('test-only').catch(() => undefined);
        return client !== undefined;
      });
      assert.match(
        c.output(),
        /initialised \/var\/lib\/postgresql\/data\/pgdata \(database shiftops/,
      );
      const { rows } = await client!.query('SELECT current_user AS u, version() AS v');
      assert.equal(rows[0].u, 'shiftops');
      assert.match(rows[0].v, /^PostgreSQL 15\./);
      await client!.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
      await client!.end();
      await assert.rejects(connect('wrong'), (err: { code?: string }) => err.code === '28P01');

      c.kill('INT');
      assert.equal(
        await Promise.race([c.exited, sleep(30_000).then(() => 'timeout')]),
        0,
        c.output(),
      );
      c = start();
      await until('accepting connections again', c, async () => {
        client = await connect('test-only').catch(() => undefined);
        return client !== undefined;
      });
      assert.doesNotMatch(c.output(), /initialised/);
      assert.deepEqual((await client!.query('SELECT n FROM kept')).rows, [{ n: 42 }]);
      await client!.end();
    });

    it('pause:1.0 stays up as PID 1 (uid 65535) and exits 0 on SIGTERM', async () => {
      const c = runImage('docker.io/shiftops/pause:1.0', { tmpfs: [] });
      containers.push(c);
      await sleep(1000);
      assert.equal(c.process.exitCode, null, c.output());
      const status = spawnSync('cat', [`/proc/${c.hostPid()}/status`], { encoding: 'utf8' }).stdout;
      assert.match(status, /^NSpid:\s+\d+\s+1$/m);
      assert.match(status, /^Uid:\s+65535\s/m);
      c.kill('TERM');
      assert.equal(await Promise.race([c.exited, sleep(10_000).then(() => 'timeout')]), 0);
    });
  },
);
