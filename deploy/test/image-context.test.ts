// The Dockerfile, run without Docker: copy the build context .dockerignore leaves, execute the
// Dockerfile's stages (npm ci, tsc -b, production-only install) and start the runtime stage's
// CMD the way the pod runs it: PID 1, uid 1000, read-only root filesystem, a tmpfs /tmp and
// nothing else writable. /readyz must answer 200, /version must show the build arguments, and
// SIGTERM must drain (503) and exit 0. A file the image needs but never gets fails here.
// Uses the host's node (the image has Node 24) and the embedded database (no DATABASE_URL).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { build, buildContext, dockerignore } from './lib/dockerfile.ts';
import { repoDir } from './lib/manifests.ts';

const SERVICES = ['users', 'shifts'];
const ready = SERVICES.every((s) => existsSync(join(repoDir, 'services', s, 'src', 'server.ts')));
// In CI a missing service is a failure, never a skip.
const skip = !ready && process.env.CI !== 'true' ? 'services are not written yet' : false;

// Not under /tmp: the sandbox mounts a fresh tmpfs there. Readable by uid 1000 (not under /root).
const base = '/var/tmp';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function get(port: number, path: string) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(2000),
    });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}

/** Can we give the process its own PID and mount namespaces (root, util-linux)? */
const sandbox =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', '--pid', '--fork', '--mount-proc', 'true']).status === 0 &&
  spawnSync('setpriv', ['--version']).status === 0;

describe('image build context', () => {
  it('.dockerignore keeps sources and manifests, drops local state and build output', () => {
    const ignored = dockerignore(readFileSync(join(repoDir, '.dockerignore'), 'utf8'));
    for (const kept of [
      'package-lock.json',
      'services/users/src/server.ts',
      'services/shifts/migrations/001.sql',
      'packages/service-kit/src/index.ts',
      'cli/package.json',
    ]) {
      assert.equal(ignored(kept), false, kept);
    }
    for (const dropped of [
      '.env',
      '.data/users/PG_VERSION',
      'services/users/dist/server.js',
      'node_modules/x/index.js',
      'services/users/test/api.test.ts',
      'services/users/tsconfig.tsbuildinfo',
      'deploy/base/users/deployment.yaml',
      '.git/HEAD',
      'cli/src/main.ts',
    ]) {
      assert.equal(ignored(dropped), true, dropped);
    }
  });
});

describe(
  'image build and start, per service',
  { skip, timeout: 15 * 60_000, concurrency: 1 },
  () => {
    const work = mkdtempSync(join(base, 'shiftops-image-'));
    after(() => rmSync(work, { recursive: true, force: true }));

    for (const service of SERVICES) {
      it(`${service}: builds from the context, starts read-only as uid 1000 / PID 1, serves /readyz, drains on SIGTERM`, async (t) => {
        const context = join(work, service, 'context');
        const files = buildContext(repoDir, context);
        assert.ok(
          !files.some(
            (f) => f.includes('/dist/') || f.startsWith('.data') || f.includes('node_modules'),
          ),
        );

        const image = build({
          dockerfile: join(repoDir, 'Dockerfile'),
          context,
          workDir: join(work, service, 'stages'),
          buildArgs: { SERVICE: service, VERSION: '9.8.7-test', REVISION: 'abc1234' },
          // Same packages as the registry would give; just use the local cache first.
          runEnv: { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
          log: (l) => t.diagnostic(l),
        });
        assert.equal(image.user, '1000:1000');
        assert.equal(image.labels['org.opencontainers.image.version'], '9.8.7-test');
        assert.equal(image.labels['org.opencontainers.image.revision'], 'abc1234');
        assert.ok(image.labels['org.opencontainers.image.source']);
        // Runtime holds no dev dependency and no sources.
        assert.ok(
          !existsSync(join(image.root, 'app/node_modules/typescript')),
          'typescript in the runtime image',
        );
        assert.ok(
          !existsSync(join(image.root, `app/services/${service}/src`)),
          'sources in the runtime image',
        );

        spawnSync('chmod', ['-R', 'a+rX', work]);
        chmodSync(work, 0o755);
        const port = await freePort();
        const env = {
          ...image.env,
          PATH: process.env.PATH!,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: '/tmp/data', // PGlite: the only writable place is /tmp, as in the pod
          DRAIN_DELAY_MS: '1500',
          SHUTDOWN_TIMEOUT_MS: '3000',
          LOG_LEVEL: 'warn',
        };
        const cwd = join(image.root, image.workdir);
        const [cmd, ...args] = image.cmd;
        // Inside: / read-only, the app dir read-only, tmpfs /tmp, then become uid 1000 and exec the
        // CMD, so node is PID 1 of its namespace exactly as in the container.
        const script = [
          'set -e',
          'mount --bind / / 2>/dev/null || true',
          'mount -o remount,bind,ro /',
          `mount --bind "${image.root}" "${image.root}"`,
          `mount -o remount,bind,ro "${image.root}"`,
          'mount -t tmpfs -o size=512m,mode=1777 tmpfs /tmp',
          `cd "${cwd}"`,
          `exec setpriv --reuid 1000 --regid 1000 --clear-groups "${cmd}" ${args.map((a) => `"${a}"`).join(' ')}`,
        ].join('\n');
        if (!sandbox) t.diagnostic('no unshare/setpriv as root here: running without the sandbox');
        if (!sandbox && process.env.CI === 'true')
          assert.fail('CI must run the sandboxed start (root, unshare, setpriv)');
        const child = sandbox
          ? spawn('unshare', ['--mount', '--pid', '--fork', '--mount-proc', 'sh', '-c', script], {
              env,
              stdio: ['ignore', 'pipe', 'pipe'],
            })
          : spawn(cmd!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (d) => (output += d));
        child.stderr.on('data', (d) => (output += d));
        const exited = new Promise<number | null>((resolve) =>
          child.on('exit', (code) => resolve(code)),
        );

        try {
          let readyz = { status: 0, body: '' };
          for (
            const deadline = Date.now() + 90_000;
            Date.now() < deadline && child.exitCode === null;
            await sleep(250)
          ) {
            readyz = await get(port, '/readyz');
            if (readyz.status === 200) break;
          }
          assert.equal(readyz.status, 200, `never ready; output:\n${output}`);
          const version = await get(port, '/version');
          assert.equal(version.status, 200);
          assert.match(version.body, /9\.8\.7-test/);
          assert.match(version.body, /abc1234/);

          // The process that gets SIGTERM is node itself (PID 1 inside the sandbox).
          let pid = child.pid!;
          if (sandbox) {
            const inner = spawnSync('pgrep', ['-P', String(child.pid)], {
              encoding: 'utf8',
            }).stdout.trim();
            pid = Number(inner);
            const nsPid = readFileSync(`/proc/${pid}/status`, 'utf8').match(
              /^NSpid:\s+\d+\s+(\d+)/m,
            )?.[1];
            assert.equal(nsPid, '1', 'node is PID 1 in its namespace');
            const uid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
            assert.equal(uid, '1000');
          }
          process.kill(pid, 'SIGTERM');
          await sleep(500);
          assert.equal(
            (await get(port, '/readyz')).status,
            503,
            'draining: unready but still listening',
          );
          const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout')]);
          assert.equal(code, 0, `exit after SIGTERM; output:\n${output}`);
        } finally {
          if (child.exitCode === null) child.kill('SIGKILL');
          await Promise.race([exited, sleep(5000)]);
        }
      });
    }
  },
);
