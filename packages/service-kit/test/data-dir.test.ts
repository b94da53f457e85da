// The embedded database's directory: a service that cannot use it exits with a message naming the
// directory and the fix (exit 73), never a bare errno, and never shares it with another process.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { claimDataDir, DataDirError, openFailed } from '../src/db/data-dir.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
// Not under /root, so another uid can reach it.
const scratch = mkdtempSync(join(process.getuid?.() === 0 ? '/var/tmp' : tmpdir(), 'data-dir-'));
chmodSync(scratch, 0o755);
after(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(scratch, `d${++n}`);
function otherUserTmp() {
  const dir = join(scratch, `tmp${++n}`);
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o1777);
  return dir;
}

/** Runs the users service as a process the way a person does, and returns how it ended. */
function startUsers(env: Record<string, string>, asUid?: number) {
  const node = [
    process.execPath,
    '--conditions=source',
    '--import',
    'tsx',
    'services/users/src/server.ts',
  ];
  const [cmd, ...args] =
    asUid === undefined
      ? node
      : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', ...node];
  const r = spawnSync(cmd!, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
    // AUTH=disabled: these runs are about the data directory, and it fails before any request.
    env: {
      ...process.env,
      PORT: '0',
      OPS_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      AUTH: 'disabled',
      // Another uid gets a temporary directory of its own (tsx caches there): the caller's
      // TMPDIR may be one only the caller can write.
      ...(asUid === undefined ? {} : { TMPDIR: otherUserTmp() }),
      ...env,
    },
  });
  return { status: r.status, stderr: String(r.stderr) };
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataDirError, `expected a DataDirError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.match(err.message, /set DATA_DIR to/);
    return true;
  });
}

describe('PGlite data directory', () => {
  it('is claimed by one process at a time: a second one is told it is in use', async () => {
    const dir = fresh();
    // Another process holds it, as a second `npm start` or a second service would.
    const holder = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '-e',
        `import { claimDataDir } from './packages/service-kit/src/db/data-dir.ts';
         await claimDataDir(${JSON.stringify(dir)}); console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d) => String(d).includes('held') && resolve());
        holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      await rejectsWith(claimDataDir(dir), new RegExp(`${dir} is in use by another process`));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('is taken over once the process that held it is gone (killed, lock left behind)', async () => {
    const dir = fresh();
    const holder = spawnSync(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '-e',
        `import { claimDataDir } from './packages/service-kit/src/db/data-dir.ts';
         await claimDataDir(${JSON.stringify(dir)}); process.kill(process.pid, 'SIGKILL');`,
      ],
      { cwd: repoRoot },
    );
    assert.equal(holder.signal, 'SIGKILL');
    const release = await claimDataDir(dir);
    await release();
  });

  it('refuses a directory with other files in it, instead of initialising a cluster among them', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not a database');
    await rejectsWith(claimDataDir(dir), /is not a PGlite data directory/);
  });

  it('names the directory when it cannot be created', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    await rejectsWith(
      claimDataDir(join(file, 'db')),
      /cannot create the PGlite data directory .*ENOTDIR/,
    );
  });

  it('wraps PGlite’s bare ErrnoError in a message naming the directory', () => {
    const bare = Object.assign(new Error(''), { name: 'ErrnoError', errno: 54 });
    const err = openFailed('/srv/db', bare);
    assert.match(err.message, /could not open the data directory \/srv\/db \(errno 54\)/);
    assert.match(err.message, /set DATA_DIR to an empty directory/);
  });

  it('a service on a foreign directory exits 73 with the message, no stack trace', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'report.pdf'), '');
    const r = startUsers({ DATA_DIR: dir });
    assert.equal(r.status, 73, r.stderr);
    assert.match(r.stderr, new RegExp(`^users: ${dir} is not a PGlite data directory`, 'm'));
    assert.doesNotMatch(r.stderr, /ErrnoError|\n\s+at /);
  });

  it('a service on a directory it may not write exits 73 naming it', (t) => {
    const dir = fresh();
    mkdirSync(dir, { mode: 0o755 });
    const root = process.getuid?.() === 0;
    if (root && spawnSync('setpriv', ['--version']).status !== 0) {
      if (process.env.CI === 'true')
        assert.fail('setpriv (util-linux) is needed to test as non-root');
      return t.skip('setpriv missing');
    }
    // root may write anywhere, so the service runs as another user (uid 1000) for this case.
    if (!root) chmodSync(dir, 0o555);
    const r = startUsers({ DATA_DIR: dir }, root ? 1000 : undefined);
    assert.equal(r.status, 73, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`^users: the PGlite data directory ${dir} is not writable`, 'm'),
    );
  });
});
