// cluster:up's SHIFTOPS_TOKEN (cluster/token.sh), checked without a cluster: the line it prints
// is a shell export, and the token is accepted by a verifier configured as the seed's pods are
// (the issuer and audience of the built cluster/seed overlay, the keys its ConfigMap is made of).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createVerifier, demoPrincipal, loadConfig } from '@shiftops/service-kit';
import { build, envValue, ofKind, repoDir } from '../../deploy/test/lib/manifests.js';

const dataDir = mkdtempSync(join(tmpdir(), 'shiftops-token-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** What `eval "$(cluster/token.sh)"` leaves in the shell, and what it said on stderr. */
function evalTokenScript() {
  const r = spawnSync(
    'bash',
    ['-c', 'eval "$(bash cluster/token.sh)" && printf %s "$SHIFTOPS_TOKEN"'],
    { cwd: repoDir, encoding: 'utf8', env: { ...process.env, DATA_DIR: dataDir } },
  );
  assert.equal(r.status, 0, r.stderr);
  return { token: r.stdout, stderr: r.stderr };
}

test('eval of its output exports SHIFTOPS_TOKEN; stderr is comments naming the admin and how to mint others', () => {
  const { token, stderr } = evalTokenScript();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const lines = stderr.trimEnd().split('\n');
  for (const line of lines) assert.match(line, /^# /);
  assert.match(stderr, /user50@example\.com: admin/);
  assert.match(stderr, /npm run -s token -- <n>/);
});

test("the seed's users and shifts pods accept it as demo user 50, an admin", async () => {
  const { token } = evalTokenScript();
  // seed/apply.sh makes the ConfigMap shiftops-dev-issuer from this file.
  const jwks = readFileSync(join(dataDir, 'dev-issuer', 'jwks.json'), 'utf8');
  const seed = build(join(repoDir, 'cluster', 'seed'));
  const deployments = ofKind(seed, 'Deployment');
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['shifts', 'users']);
  for (const d of deployments) {
    const container = d.spec.template.spec.containers[0];
    const jwksRef = container.env.find((e: { name: string }) => e.name === 'AUTH_JWKS');
    assert.deepEqual(jwksRef.valueFrom.configMapKeyRef, {
      name: 'shiftops-dev-issuer',
      key: 'jwks.json',
    });
    const config = loadConfig(
      { name: d.metadata.name, version: 'test' },
      {
        AUTH_ISSUER: envValue(seed, container, 'AUTH_ISSUER'),
        AUTH_AUDIENCE: envValue(seed, container, 'AUTH_AUDIENCE'),
        AUTH_JWKS: jwks,
      },
      '',
    );
    assert.equal(config.auth.mode, 'enabled');
    if (config.auth.mode !== 'enabled') return;
    const principal = await createVerifier(config.auth).authenticate(`Bearer ${token}`);
    assert.deepEqual(principal, demoPrincipal(50));
    assert.equal(principal.role, 'admin');
  }
});
