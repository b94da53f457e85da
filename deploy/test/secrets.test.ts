// No Secret values in git: the only credentials in the repository are the dev-only generator of
// deploy/components/postgres, and production never includes it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { deployDir, ofKind, overlay, parseYamlFile, repoDir } from './lib/manifests.ts';
import type { K8sObject } from './lib/manifests.ts';

const SKIP_DIRS = new Set(['.git', 'node_modules', 'dist', '.data', 'coverage', 'results']);
const DEV_GENERATOR = 'deploy/components/postgres/kustomization.yaml';

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!SKIP_DIRS.has(name)) yield* files(path);
    } else if (/\.(ya?ml|json)$/.test(name)) {
      yield path;
    }
  }
}

function documents(path: string): K8sObject[] {
  try {
    return parseYamlFile(readFileSync(path, 'utf8')).filter(
      (d): d is K8sObject => !!d && typeof d === 'object',
    );
  } catch {
    return []; // not YAML (e.g. a template); the key scan below still covers it
  }
}

describe('secrets in git', () => {
  const all = [...files(repoDir)];

  it('finds the repository files to scan', () => {
    assert.ok(all.some((f) => f.endsWith(DEV_GENERATOR)));
  });

  it('has no Secret object with data or stringData in any YAML or JSON file', () => {
    const found = all.flatMap((f) =>
      documents(f)
        .filter((d) => d.kind === 'Secret' && (d.data || d.stringData))
        .map((d) => `${relative(repoDir, f)}: Secret/${d.metadata?.name}`),
    );
    assert.deepEqual(found, []);
  });

  it('has a secretGenerator only in the dev-only postgres component', () => {
    const generators = all
      .filter((f) => /kustomization\.ya?ml$/.test(f))
      .filter((f) => documents(f).some((d) => d.secretGenerator))
      .map((f) => relative(repoDir, f));
    assert.deepEqual(generators, [DEV_GENERATOR]);
  });

  it('has no private keys or cloud access keys in deploy/', () => {
    const leaks = [...files(deployDir)].filter((f) =>
      /-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}/.test(readFileSync(f, 'utf8')),
    );
    assert.deepEqual(leaks, []);
  });
});

describe('production', () => {
  const objects = overlay('production');
  const kustomization = parseYamlFile(
    readFileSync(join(deployDir, 'overlays/production/kustomization.yaml'), 'utf8'),
  )[0] as { components?: string[] };

  it('does not include the dev-only postgres component', () => {
    assert.ok(!(kustomization.components ?? []).some((c) => c.endsWith('components/postgres')));
    assert.equal(ofKind(objects, 'StatefulSet').length, 0);
  });

  it('creates no Secret: DATABASE_URL comes from Secrets the platform provides', () => {
    assert.deepEqual(ofKind(objects, 'Secret'), []);
    const refs = ofKind(objects, 'Deployment').map(
      (d) =>
        d.spec.template.spec.containers[0].env.find((e: K8sObject) => e.name === 'DATABASE_URL')
          .valueFrom.secretKeyRef.name,
    );
    assert.deepEqual(refs.sort(), ['shifts-database', 'users-database']);
  });

  it('does not contain the dev password anywhere', () => {
    assert.doesNotMatch(JSON.stringify(objects), /shiftops-dev-only/);
  });
});
