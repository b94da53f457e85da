// scripts/apt-install.sh must leave a machine's own policy-rc.d exactly as it was, and must not
// leave behind the one it writes. apt-get is replaced by a stand-in on PATH that records whether a
// policy was in force during the install: the real one would change this machine's packages.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'apt-install.sh');
const dir = mkdtempSync(join(tmpdir(), 'apt-install-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fakeBin = join(dir, 'bin');
const seen = join(dir, 'seen');
spawnSync('mkdir', ['-p', fakeBin]);
// `sudo` too, so the test also runs as a non-root user.
writeFileSync(
  join(fakeBin, 'apt-get'),
  `#!/bin/sh\ncase " $* " in *" install "*) cat "$SHIFTOPS_POLICY_RC_D" >> "${seen}" ;; esac\n[ -z "$FAIL" ] || exit 100\nexit 0\n`,
);
writeFileSync(join(fakeBin, 'sudo'), '#!/bin/sh\nexec "$@"\n');
chmodSync(join(fakeBin, 'apt-get'), 0o755);
chmodSync(join(fakeBin, 'sudo'), 0o755);

// A package no machine has, so the script always gets to the install.
const ABSENT = 'shiftops-test-package-that-is-not-installed';

function install(policy: string, env: Record<string, string> = {}, packages = [ABSENT]) {
  rmSync(seen, { force: true });
  return spawnSync('bash', [script, ...packages], {
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${fakeBin}:${process.env.PATH}`,
      SHIFTOPS_POLICY_RC_D: policy,
      ...env,
    },
  });
}

describe('scripts/apt-install.sh', () => {
  it('keeps an existing policy-rc.d byte for byte and uses it for the install', () => {
    const policy = join(dir, 'existing-policy-rc.d');
    writeFileSync(policy, '#!/bin/sh\n# the machine owner policy\nexit 0\n', { mode: 0o700 });
    const r = install(policy);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(policy, 'utf8'), '#!/bin/sh\n# the machine owner policy\nexit 0\n');
    assert.match(readFileSync(seen, 'utf8'), /machine owner policy/);
  });

  it('forbids service starts during the install when there is none, and removes its own after', () => {
    const policy = join(dir, 'absent-policy-rc.d');
    const r = install(policy);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(seen, 'utf8'), /exit 101/);
    assert.equal(existsSync(policy), false);
  });

  it('installs nothing, and writes no policy-rc.d, when every package is there already', () => {
    const policy = join(dir, 'untouched-policy-rc.d');
    const r = install(policy, {}, ['bash', 'coreutils']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(seen), false, 'apt-get install ran');
    assert.equal(existsSync(policy), false);
  });

  it('removes its own policy-rc.d when the install fails too, and reports the failure', () => {
    const policy = join(dir, 'failing-policy-rc.d');
    const r = install(policy, { FAIL: '1' });
    assert.notEqual(r.status, 0);
    assert.equal(existsSync(policy), false);
  });
});
