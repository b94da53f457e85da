// The CLI the way people get it: `npx shiftops` in a clone of the repo, and one tarball installed
// globally without the repo (platform teams). Both run real npm, with a throwaway prefix.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = join(cliDir, '..');
const pkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const scratch = mkdtempSync(join(tmpdir(), 'shiftops-cli-install-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}) {
  // A child must not inherit the test runner's loader (tsx, source conditions): a user has none.
  const env = { ...process.env, NODE_OPTIONS: '' };
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 120_000, ...options });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('installing the CLI', () => {
  it('links a bin whose target is committed, so npm links it in a fresh clone before any build', () => {
    const target = pkg.bin['shiftops'];
    assert.ok(target, 'cli/package.json declares the shiftops bin');
    const tracked = run('git', ['ls-files', '--error-unmatch', target], { cwd: cliDir });
    assert.equal(tracked.status, 0, `${target} must be a committed file: ${tracked.stderr}`);
  });

  it('says how to build when the compiled CLI is missing, instead of a stack trace', () => {
    const dir = mkdtempSync(join(scratch, 'unbuilt-'));
    const bin = join(dir, 'bin', 'shiftops.js');
    spawnSync('mkdir', ['-p', join(dir, 'bin')]);
    copyFileSync(join(cliDir, pkg.bin['shiftops']!), bin);
    const r = run(process.execPath, [bin, '--help']);
    assert.equal(r.status, 69);
    assert.match(r.stderr, /not built yet.*npm run build/);
  });

  it('runs the TypeScript source through tsx in a clone that has not been built', () => {
    const dir = mkdtempSync(join(scratch, 'source-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'src'));
    copyFileSync(join(cliDir, pkg.bin['shiftops']!), join(dir, 'bin', 'shiftops.js'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    symlinkSync(join(repoDir, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(
      join(dir, 'src', 'main.ts'),
      "const args: string[] = process.argv.slice(2);\nconsole.log(`from source: ${args.join(' ')}`);\n",
    );
    const r = run(process.execPath, [join(dir, 'bin', 'shiftops.js'), '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from source: --help\n');
  });

  it('`npx shiftops --help` works from the repository root after the build', () => {
    assert.equal(run('npx', ['tsc', '-b', 'cli'], { cwd: repoDir }).status, 0);
    const r = run('npx', ['--no-install', 'shiftops', '--help'], { cwd: repoDir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage:/m);
    assert.match(r.stdout, /shiftops deploy/);
  });

  it('installs globally from one packed tarball, with nothing else from the repo', () => {
    for (const dep of Object.keys(pkg.dependencies)) {
      assert.doesNotMatch(dep, /^@shiftops\//, 'the CLI must not need another workspace');
    }
    const packed = run('npm', ['pack', '--pack-destination', scratch, '--silent'], {
      cwd: cliDir,
    });
    assert.equal(packed.status, 0, packed.stderr);
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack wrote no tarball: ${packed.stdout}`);

    const prefix = join(scratch, 'global');
    const installed = run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        join(scratch, tarball),
      ],
      { cwd: scratch },
    );
    assert.equal(installed.status, 0, installed.stderr);

    // Run from outside the repo so nothing can resolve through the workspace's node_modules.
    const r = run(join(prefix, 'bin', 'shiftops'), ['deploy', '--help'], { cwd: scratch });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /shiftops deploy <service>/);
    const usage = run(join(prefix, 'bin', 'shiftops'), ['deploy', 'nosuch', '1.0.0'], {
      cwd: scratch,
    });
    assert.equal(usage.status, 64, 'an unknown service is a usage error, before any cluster call');
  });
});
