#!/usr/bin/env node
// `npm run validate`: builds every overlay and every combination of components with
// `kubectl kustomize`, then checks the output offline:
//   1. built-in kinds against the Kubernetes JSON schemas of one minor (kubernetes-validate --strict);
//   2. custom resources against the CRD schemas vendored in deploy/crds (strict, via jsonschema);
//   3. every PrometheusRule with `promtool check rules`, and deploy/components/*/tests with
//      `promtool test rules`;
//   4. the files that are not kustomize input (scrape config, aws-auth) with their own tools.
// Tools come from deploy/scripts/install-tools.sh. Policy checks live in deploy/test/*.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { authConfigProblems } from './auth-config.mjs';

const DEFAULT_K8S_MINOR = '1.34'; // used only when cluster/versions.env does not pin one
const deploy = fileURLToPath(new URL('..', import.meta.url));
const repo = join(deploy, '..');
const venv = join(process.env.SHIFTOPS_CACHE ?? join(homedir(), '.cache', 'shiftops'), 'venv');

/** The Kubernetes minor the cluster tests run, so offline and live checks agree. */
function kubernetesMinor() {
  const env = join(repo, 'cluster', 'versions.env');
  if (existsSync(env)) {
    const m = /^(?:K8S_VERSION|KUBE_VERSION)=v?(\d+)\.(\d+)/m.exec(readFileSync(env, 'utf8'));
    if (m) return `${m[1]}.${m[2]}`;
  }
  return DEFAULT_K8S_MINOR;
}

function tool(name, candidates, probe = ['--version']) {
  const found = candidates.find((c) => spawnSync(c, probe, { stdio: 'ignore' }).status === 0);
  if (!found) {
    console.error(`validate: ${name} not found; run deploy/scripts/install-tools.sh`);
    process.exit(2);
  }
  return found;
}

const failures = [];
function check(label, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0) {
    failures.push(label);
    console.log(`FAIL ${label}\n${out.replace(/^/gm, '     ')}`);
  } else {
    console.log(`ok   ${label}`);
  }
  return out;
}

/** Every subset of the components, as a kustomization in a temp dir that points at deploy/. */
function componentCombinations(work) {
  const components = readdirSync(join(deploy, 'components')).sort();
  const combos = [];
  for (let mask = 0; mask < 1 << components.length; mask++) {
    const chosen = components.filter((_, i) => mask & (1 << i));
    const dir = join(work, 'combos', chosen.join('+') || 'none');
    mkdirSync(dir, { recursive: true });
    const rel = (p) => relative(dir, join(deploy, p));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        namespace: 'shiftops-validate',
        resources: ['base/namespace', 'rbac', 'base/users', 'base/shifts'].map(rel),
        components: chosen.map((c) => rel(`components/${c}`)),
      }),
    );
    combos.push({ name: `components: ${chosen.join(', ') || '(none)'}`, dir });
  }
  return combos;
}

const minor = kubernetesMinor();
const kubectl = tool('kubectl', ['kubectl'], ['version', '--client']);
const kubeValidate = tool('kubernetes-validate', [
  join(venv, 'bin', 'kubernetes-validate'),
  'kubernetes-validate',
]);
const python = join(venv, 'bin', 'python');
const promtool = tool('promtool', ['promtool']);
const work = mkdtempSync(join(tmpdir(), 'shiftops-validate-'));

try {
  console.log(
    `validate: Kubernetes ${minor}, ${execFileSync(kubectl, ['version', '--client']).toString().split('\n')[1] ?? ''}`,
  );
  const overlays = readdirSync(join(deploy, 'overlays'))
    .filter((o) => existsSync(join(deploy, 'overlays', o, 'kustomization.yaml')))
    .map((o) => ({ name: `overlay ${o}`, overlay: o, dir: join(deploy, 'overlays', o) }));
  const targets = [...overlays, ...componentCombinations(work)];

  const builtFiles = [];
  const crFiles = [];
  const rules = new Map();
  for (const [i, t] of targets.entries()) {
    const r = spawnSync(kubectl, ['kustomize', t.dir], { encoding: 'utf8' });
    if (r.status !== 0) {
      failures.push(`build ${t.name}`);
      console.log(`FAIL build ${t.name}\n     ${r.stderr.trim()}`);
      continue;
    }
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const builtin = docs.filter((d) => !d.apiVersion.includes('.coreos.com/'));
    const custom = docs.filter((d) => d.apiVersion.includes('.coreos.com/'));
    const file = join(work, `${i}-built.yaml`);
    writeFileSync(file, builtin.map((d) => stringify(d)).join('---\n'));
    builtFiles.push({ t, file, count: docs.length });
    if (custom.length) {
      const crFile = join(work, `${i}-custom.yaml`);
      writeFileSync(crFile, custom.map((d) => stringify(d)).join('---\n'));
      crFiles.push(crFile);
    }
    for (const d of docs.filter((d) => d.kind === 'PrometheusRule')) {
      rules.set(d.metadata.name, stringify(d.spec));
    }
    console.log(`ok   build ${t.name} (${docs.length} objects)`);
    if (t.overlay) {
      const problems = authConfigProblems(docs, t.overlay);
      if (problems.length) {
        failures.push(`auth ${t.name}`);
        console.log(`FAIL auth ${t.name}\n${problems.map((p) => `     ${p}`).join('\n')}`);
      } else console.log(`ok   auth ${t.name} (issuer, audience and one key source)`);
    }
  }

  // One kubernetes-validate run per target keeps the error next to the target's name.
  for (const { t, file } of builtFiles) {
    check(`schema ${t.name} (Kubernetes ${minor}, strict)`, kubeValidate, [
      '--strict',
      '--quiet',
      '-k',
      `${minor}.0`,
      file,
    ]);
  }
  const awsAuth = join(deploy, 'rbac', 'eks', 'aws-auth-configmap.yaml');
  check(`schema ${relative(repo, awsAuth)}`, kubeValidate, [
    '--strict',
    '--quiet',
    '-k',
    `${minor}.0`,
    awsAuth,
  ]);
  if (crFiles.length) {
    check('custom resources against deploy/crds (strict)', python, [
      join(deploy, 'scripts', 'validate-custom-resources.py'),
      join(deploy, 'crds'),
      ...crFiles,
    ]);
  }

  // Rules: the PrometheusRule spec is a Prometheus rule file as is.
  const rulesDir = join(work, 'rules');
  mkdirSync(rulesDir);
  for (const [name, spec] of rules) writeFileSync(join(rulesDir, `${name}.rules.yaml`), spec);
  check(`promtool check rules (${[...rules.keys()].join(', ')})`, promtool, [
    'check',
    'rules',
    ...[...rules.keys()].map((n) => join(rulesDir, `${n}.rules.yaml`)),
  ]);
  for (const component of readdirSync(join(deploy, 'components')).sort()) {
    const testsDir = join(deploy, 'components', component, 'tests');
    if (!existsSync(testsDir)) continue;
    for (const test of readdirSync(testsDir).filter((f) => f.endsWith('.test.yaml'))) {
      // Tests name their rule files by PrometheusRule name; they sit next to the extracted rules.
      copyFileSync(join(testsDir, test), join(rulesDir, test));
      check(`promtool test rules ${component}/tests/${test}`, promtool, ['test', 'rules', test], {
        cwd: rulesDir,
      });
    }
  }
  // Debian's promtool is built without Kubernetes service discovery, so the relabelling is
  // checked with a static target in its place.
  const scrape = join(deploy, 'components', 'prometheus-scrape', 'scrape-config.yaml');
  const scrapeConfig = parseAllDocuments(readFileSync(scrape, 'utf8'))[0].toJS();
  for (const job of scrapeConfig.scrape_configs) {
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['placeholder:8080'] }];
  }
  writeFileSync(join(work, 'scrape-config.yaml'), stringify(scrapeConfig));
  check(
    `promtool check config ${relative(repo, scrape)} (static target for kubernetes_sd)`,
    promtool,
    ['check', 'config', '--syntax-only', join(work, 'scrape-config.yaml')],
  );

  console.log(
    `\nvalidate: ${targets.length} builds, ${rules.size} rule files, ` +
      (failures.length ? `${failures.length} FAILED:\n  ${failures.join('\n  ')}` : 'all passed'),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(failures.length ? 1 : 0);
