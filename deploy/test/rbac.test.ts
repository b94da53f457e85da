// Developers can deploy, watch and roll back, nothing else; CI can apply the app, not the RBAC.
// The allowed lists are the API calls of the deploy CLI and of `kubectl set image`,
// `rollout status|history|undo` (docs/access.md has the table).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { allBuilds, deployDir, ofKind, parseYamlFile } from './lib/manifests.ts';
import type { K8sObject } from './lib/manifests.ts';
import { DEFAULT_PROMETHEUS_SERVICE } from '../../cli/src/args.ts';
import { PROMOTE_SOURCE_PERMISSIONS, ROLLOUT_PERMISSIONS } from '../../cli/src/kube/access.ts';

type Rule = {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
};

/** "group/resource" -> verbs, flattened from rules. */
function grants(rules: Rule[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of rules) {
    for (const g of r.apiGroups) {
      for (const res of r.resources) {
        const key = `${g || 'core'}/${res}`;
        const set = out.get(key) ?? new Set<string>();
        r.verbs.forEach((v) => set.add(v));
        out.set(key, set);
      }
    }
  }
  return out;
}

const READ = ['get', 'list', 'watch'];
const DEVELOPER: Record<string, string[]> = {
  'apps/deployments': [...READ, 'patch', 'update'],
  'apps/replicasets': READ,
  'core/pods': READ,
  'core/pods/log': ['get'],
  'core/events': READ,
  'events.k8s.io/events': READ,
  'autoscaling/horizontalpodautoscalers': READ,
  'core/services/proxy': ['get'],
};
/** Rules that must name their objects: the one Prometheus Service the CLI queries by default. */
const NAMED_ONLY: Record<string, string[]> = {
  'core/services/proxy': [DEFAULT_PROMETHEUS_SERVICE],
};
const WRITE = [...READ, 'create', 'update', 'patch', 'delete'];
const CI: Record<string, string[]> = {
  'core/configmaps': WRITE,
  'core/services': WRITE,
  'core/serviceaccounts': WRITE,
  'core/secrets': ['create', 'update', 'patch', 'delete'],
  'apps/deployments': WRITE,
  'apps/statefulsets': WRITE,
  'autoscaling/horizontalpodautoscalers': WRITE,
  'policy/poddisruptionbudgets': WRITE,
  'networking.k8s.io/networkpolicies': WRITE,
  'networking.k8s.io/ingresses': WRITE,
  'monitoring.coreos.com/podmonitors': WRITE,
  'monitoring.coreos.com/prometheusrules': WRITE,
  'apps/replicasets': READ,
  'core/pods': READ,
  'core/pods/log': ['get'],
  'core/events': READ,
  'events.k8s.io/events': READ,
};
const ALLOWED: Record<string, Record<string, string[]>> = {
  'shiftops-developer': DEVELOPER,
  'shiftops-ci': CI,
};
const NEVER = [
  'core/pods/exec',
  'core/pods/attach',
  'core/pods/portforward',
  'rbac.authorization.k8s.io/roles',
  'rbac.authorization.k8s.io/rolebindings',
  'core/namespaces',
];

for (const { name, objects } of allBuilds()) {
  describe(`RBAC in ${name}`, () => {
    it('has only namespaced Roles (no ClusterRole or ClusterRoleBinding)', () => {
      assert.equal(
        ofKind(objects, 'ClusterRole').length + ofKind(objects, 'ClusterRoleBinding').length,
        0,
      );
      assert.deepEqual(
        ofKind(objects, 'Role')
          .map((r) => r.metadata.name)
          .sort(),
        Object.keys(ALLOWED).sort(),
      );
    });

    for (const role of ofKind(objects, 'Role')) {
      const allowed = ALLOWED[role.metadata.name]!;
      it(`Role/${role.metadata.name} grants no verb outside its allowed list, and no wildcard`, () => {
        for (const r of role.rules as Rule[]) {
          assert.ok(
            !r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'),
          );
          assert.equal(r.nonResourceURLs, undefined);
        }
        for (const [resource, verbs] of grants(role.rules)) {
          assert.ok(allowed[resource], `${resource} is not allowed at all`);
          for (const v of verbs)
            assert.ok(allowed[resource]!.includes(v), `${v} ${resource} is not allowed`);
        }
        for (const resource of NEVER) assert.ok(!grants(role.rules).has(resource), resource);
      });
      it(`Role/${role.metadata.name} grants everything its job needs`, () => {
        const g = grants(role.rules);
        for (const [resource, verbs] of Object.entries(allowed)) {
          for (const v of verbs) assert.ok(g.get(resource)?.has(v), `missing ${v} ${resource}`);
        }
      });
    }

    it('developers reach Prometheus only: get on the proxy of that one Service, nothing else of Services', () => {
      const role = ofKind(objects, 'Role').find((r) => r.metadata.name === 'shiftops-developer')!;
      for (const [resource, names] of Object.entries(NAMED_ONLY)) {
        const [group, ...rest] = resource.split('/');
        const rules = (role.rules as Rule[]).filter(
          (r) =>
            r.apiGroups.includes(group === 'core' ? '' : group!) &&
            r.resources.includes(rest.join('/')),
        );
        assert.ok(rules.length > 0, `no rule for ${resource}`);
        for (const r of rules) assert.deepEqual(r.resourceNames, names, resource);
      }
      const g = grants(role.rules);
      assert.ok(!g.has('core/services'), 'no access to Service objects themselves');
      assert.ok(!g.has('core/pods/proxy'), 'no proxy to pods');
    });

    it('developers have every permission the CLI checks before deploy, rollback and promote', () => {
      const g = grants(
        ofKind(objects, 'Role').find((r) => r.metadata.name === 'shiftops-developer')!.rules,
      );
      for (const p of [...ROLLOUT_PERMISSIONS, ...PROMOTE_SOURCE_PERMISSIONS]) {
        const key = `${p.group || 'core'}/${p.resource}${p.subresource ? `/${p.subresource}` : ''}`;
        assert.ok(g.get(key)?.has(p.verb), `developers lack ${p.verb} ${key} (${p.why})`);
      }
    });

    it('developers may not delete, create pods, read Secrets or write ConfigMaps', () => {
      const g = grants(
        ofKind(objects, 'Role').find((r) => r.metadata.name === 'shiftops-developer')!.rules,
      );
      for (const [, verbs] of g) assert.ok(!verbs.has('delete') && !verbs.has('deletecollection'));
      assert.ok(!g.get('core/pods')?.has('create'));
      assert.ok(!g.has('core/secrets'));
      assert.ok(!g.has('core/configmaps'));
    });

    it('binds developers to the group shiftops:developers and CI to its ServiceAccount and group', () => {
      const subjects = (n: string) =>
        ofKind(objects, 'RoleBinding')
          .filter((b) => b.roleRef.kind === 'Role' && b.roleRef.name === n)
          .flatMap((b) => b.subjects.map((s: K8sObject) => `${s.kind}:${s.name}`));
      assert.deepEqual(subjects('shiftops-developer'), ['Group:shiftops:developers']);
      assert.deepEqual(subjects('shiftops-ci').sort(), [
        'Group:shiftops:ci',
        'ServiceAccount:shiftops-ci',
      ]);
    });

    it('marks the Namespace and RBAC as platform-owned, so CI never applies them', () => {
      for (const o of objects.filter(
        (o) =>
          ['Namespace', 'Role', 'RoleBinding'].includes(o.kind) ||
          o.metadata.name === 'shiftops-ci',
      )) {
        assert.equal(
          o.metadata.labels?.['shiftops.dev/managed-by'],
          'platform',
          `${o.kind}/${o.metadata.name}`,
        );
      }
      for (const o of objects.filter(
        (o) =>
          !['Namespace', 'Role', 'RoleBinding'].includes(o.kind) &&
          o.metadata.name !== 'shiftops-ci',
      )) {
        assert.notEqual(
          o.metadata.labels?.['shiftops.dev/managed-by'],
          'platform',
          `${o.kind}/${o.metadata.name}`,
        );
      }
    });

    it('lets CI write every kind it has to apply, and nothing platform-owned', () => {
      const g = grants(
        ofKind(objects, 'Role').find((r) => r.metadata.name === 'shiftops-ci')!.rules,
      );
      const appObjects = objects.filter(
        (o) => o.metadata.labels?.['shiftops.dev/managed-by'] !== 'platform',
      );
      for (const o of appObjects) {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : 'core';
        const plural = o.kind.toLowerCase().replace(/y$/, 'ie').replace(/s$/, 'se') + 's';
        const key = `${group}/${plural}`;
        assert.ok(
          g.get(key)?.has('create') && g.get(key)?.has('patch'),
          `CI cannot apply ${o.kind} (${key})`,
        );
      }
    });
  });
}

describe('EKS mapping', () => {
  const policy = JSON.parse(
    readFileSync(join(deployDir, 'rbac/eks/developer-iam-policy.json'), 'utf8'),
  );
  it('gives developers eks:DescribeCluster on one cluster, and nothing else', () => {
    const actions = policy.Statement.flatMap((s: { Effect: string; Action: string | string[] }) =>
      s.Effect === 'Allow' ? [s.Action].flat() : [],
    );
    assert.deepEqual(actions, ['eks:DescribeCluster']);
    for (const s of policy.Statement)
      assert.match(s.Resource, /^arn:aws:eks:[^:]+:[^:]+:cluster\/[^*]+$/);
  });

  const bound = new Set(['shiftops:developers', 'shiftops:ci']);
  it('maps IAM roles only to the groups the RoleBindings use, in access entries and in aws-auth', () => {
    const script = readFileSync(join(deployDir, 'rbac/eks/access-entries.sh'), 'utf8');
    const entryGroups = [...script.matchAll(/--kubernetes-groups (\S+)/g)].map((m) => m[1]);
    assert.deepEqual(new Set(entryGroups), bound);
    assert.doesNotMatch(
      script,
      /associate-access-policy|AmazonEKS\w*Policy/,
      'no cluster-wide access policy',
    );
    const cm = parseYamlFile(
      readFileSync(join(deployDir, 'rbac/eks/aws-auth-configmap.yaml'), 'utf8'),
    )[0] as K8sObject;
    const roles = parseYamlFile(cm.data.mapRoles)[0] as Array<{ groups: string[] }>;
    assert.deepEqual(new Set(roles.flatMap((r) => r.groups)), bound);
    assert.ok(!roles.some((r) => r.groups.includes('system:masters')));
  });
});
