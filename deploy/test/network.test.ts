// Default deny in every namespace; each workload allows exactly its peers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allBuilds, ofKind, podTemplates } from './lib/manifests.ts';
import type { K8sObject } from './lib/manifests.ts';

function selects(policy: K8sObject, labels: Record<string, string>) {
  const sel = policy.spec.podSelector;
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    !sel.matchExpressions
  );
}

for (const { name, objects } of allBuilds()) {
  describe(`network policies in ${name}`, () => {
    const policies = ofKind(objects, 'NetworkPolicy');

    it('denies all ingress and egress by default in the namespace', () => {
      const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0);
      assert.ok(deny);
      assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
      assert.equal(deny.spec.ingress, undefined);
      assert.equal(deny.spec.egress, undefined);
    });

    for (const { owner, object } of podTemplates(objects)) {
      const labels = object.spec.template.metadata.labels;
      const own = policies.filter(
        (p) => Object.keys(p.spec.podSelector).length > 0 && selects(p, labels),
      );
      it(`${owner} has its own policy for both directions`, () => {
        assert.equal(own.length, 1);
        assert.deepEqual(own[0]!.spec.policyTypes, ['Ingress', 'Egress']);
      });
      if (object.kind !== 'Deployment') continue;

      it(`${owner} accepts only the ingress controller (http port) and Prometheus (ops port)`, () => {
        const ingress = own[0]!.spec.ingress;
        assert.equal(ingress.length, 2);
        const portOf = (name: string) =>
          ingress.find((r: { from: { podSelector: { matchLabels: Record<string, string> } }[] }) =>
            r.from.some((p) => p.podSelector.matchLabels['app.kubernetes.io/name'] === name),
          )?.ports;
        assert.deepEqual(portOf('ingress-nginx'), [{ port: 'http', protocol: 'TCP' }]);
        assert.deepEqual(portOf('prometheus'), [{ port: 'ops', protocol: 'TCP' }]);
        for (const rule of ingress) {
          for (const peer of rule.from) {
            assert.ok(
              peer.namespaceSelector && peer.podSelector,
              'peer pinned to namespace and pods',
            );
          }
        }
      });

      // Production also fetches the token issuer's JWKS over https; elsewhere the keys are local.
      const https = name === 'overlay production' ? ['TCP/443'] : [];
      it(`${owner} reaches only DNS and PostgreSQL${https.length ? ' and the issuer (443)' : ''}`, () => {
        const ports = own[0]!.spec.egress.flatMap((r: K8sObject) =>
          r.ports.map((p: K8sObject) => `${p.protocol}/${p.port}`),
        );
        assert.deepEqual(ports.sort(), [...https, 'TCP/53', 'TCP/5432', 'UDP/53'].sort());
        const dns = own[0]!.spec.egress.find((r: K8sObject) =>
          r.ports.some((p: K8sObject) => p.port === 53),
        );
        assert.ok(dns.to?.length, 'DNS only to the cluster DNS pods');
      });
    }

    it('the Ingresses route only /v1/ and /openapi.json to the http port (no /metrics, /readyz)', () => {
      const ingresses = ofKind(objects, 'Ingress');
      assert.equal(ingresses.length, 2);
      for (const ing of ingresses) {
        const paths = ing.spec.rules.flatMap((r: K8sObject) => r.http.paths);
        assert.deepEqual(
          paths.map((p: K8sObject) => `${p.pathType} ${p.path} → ${p.backend.service.port.name}`),
          ['Prefix /v1/ → http', 'Exact /openapi.json → http'],
        );
      }
      for (const svc of ofKind(objects, 'Service').filter((s) => s.metadata.name !== 'postgres')) {
        assert.deepEqual(
          svc.spec.ports.map((p: K8sObject) => p.targetPort),
          ['http'],
          `${svc.metadata.name}: the Service exposes only the API port`,
        );
      }
    });

    it('lets only the APIs reach the in-cluster database, when there is one', () => {
      const pg = policies.find((p) => p.metadata.name === 'postgres');
      if (!ofKind(objects, 'StatefulSet').length) return assert.equal(pg, undefined);
      assert.ok(pg);
      assert.deepEqual(pg.spec.ingress[0].from[0].podSelector.matchExpressions[0].values.sort(), [
        'shifts',
        'users',
      ]);
      assert.equal(pg.spec.egress, undefined);
    });
  });
}
