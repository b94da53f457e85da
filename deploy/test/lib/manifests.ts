// Builds the overlays with `kubectl kustomize` (as validate.mjs and the cluster tests do) and
// gives the tests typed-enough views of the output. Builds are cached per process.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const deployDir = fileURLToPath(new URL('../../', import.meta.url));
export const repoDir = join(deployDir, '..');

// Loose on purpose: the tests assert on shapes, the schema check in validate.mjs on types.
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
};

const cache = new Map<string, K8sObject[]>();

export function build(dir: string): K8sObject[] {
  let objects = cache.get(dir);
  if (!objects) {
    const out = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    objects = parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
    cache.set(dir, objects);
  }
  return objects;
}

export const overlayNames = readdirSync(join(deployDir, 'overlays')).filter((o) =>
  existsSync(join(deployDir, 'overlays', o, 'kustomization.yaml')),
);
export const componentNames = readdirSync(join(deployDir, 'components')).filter((c) =>
  existsSync(join(deployDir, 'components', c, 'kustomization.yaml')),
);

export function overlay(name: string): K8sObject[] {
  return build(join(deployDir, 'overlays', name));
}

/** The bases with every component, so component objects are covered even if no overlay uses one. */
export function everything(): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'shiftops-policy-'));
  mkdirSync(dir, { recursive: true });
  const rel = (p: string) => relative(dir, join(deployDir, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: 'shiftops-policy',
      resources: ['base/namespace', 'rbac', 'base/users', 'base/shifts'].map(rel),
      components: componentNames.map((c) => rel(`components/${c}`)),
    }),
  );
  try {
    return build(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every build the policy holds for: each overlay, and everything together. */
export function allBuilds(): Array<{ name: string; objects: K8sObject[] }> {
  return [
    ...overlayNames.map((name) => ({ name: `overlay ${name}`, objects: overlay(name) })),
    { name: 'all components', objects: everything() },
  ];
}

export const ofKind = (objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind);

export function podTemplates(objects: K8sObject[]) {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, object: o, spec: o.spec.template.spec }));
}

/** The value of a key in the ConfigMap a container loads with envFrom, else its env, else undefined. */
export function envValue(
  objects: K8sObject[],
  container: K8sObject,
  key: string,
): string | undefined {
  const direct = (container.env ?? []).find((e: { name: string }) => e.name === key);
  if (direct?.value !== undefined) return direct.value;
  for (const from of container.envFrom ?? []) {
    const cm = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name,
    );
    if (cm?.data?.[key] !== undefined) return cm.data[key];
  }
  return undefined;
}

export function parseYamlFile(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => d.toJS());
}
