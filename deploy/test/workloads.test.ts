// Every pod the overlays create could run under Pod Security "restricted", is probed, sized and
// shuts down inside its grace period.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allBuilds,
  envValue,
  ofKind,
  overlay,
  overlayNames,
  podTemplates,
} from './lib/manifests.ts';
import { quantity } from './lib/quantity.ts';

for (const { name, objects } of allBuilds()) {
  describe(`workloads in ${name}`, () => {
    const pods = podTemplates(objects);

    it('has workloads to check', () => {
      assert.ok(pods.some((p) => p.owner === 'Deployment/users'));
      assert.ok(pods.some((p) => p.owner === 'Deployment/shifts'));
    });

    for (const { owner, spec } of pods) {
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        it(`${owner} container ${c.name} has startup, readiness and liveness probes`, () => {
          for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
            assert.ok(c[probe], `${probe} missing`);
          }
        });

        it(`${owner} container ${c.name} has CPU and memory requests and limits, requests <= limits`, () => {
          for (const r of ['cpu', 'memory']) {
            const req = c.resources?.requests?.[r];
            const lim = c.resources?.limits?.[r];
            assert.ok(req, `requests.${r} missing`);
            assert.ok(lim, `limits.${r} missing`);
            assert.ok(quantity(req) <= quantity(lim), `${r} request ${req} > limit ${lim}`);
          }
        });

        it(`${owner} container ${c.name} passes Pod Security "restricted" and has a read-only root`, () => {
          const sc = c.securityContext ?? {};
          const podSc = spec.securityContext ?? {};
          assert.equal(sc.allowPrivilegeEscalation, false);
          assert.equal(sc.readOnlyRootFilesystem, true);
          assert.deepEqual(sc.capabilities?.drop, ['ALL']);
          assert.deepEqual(sc.capabilities?.add ?? [], []);
          assert.ok(sc.privileged !== true);
          assert.equal(sc.runAsNonRoot ?? podSc.runAsNonRoot, true);
          const uid = sc.runAsUser ?? podSc.runAsUser;
          assert.ok(Number.isInteger(uid) && uid > 0, `numeric non-root runAsUser, got ${uid}`);
          const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
          assert.ok(['RuntimeDefault', 'Localhost'].includes(seccomp), `seccompProfile ${seccomp}`);
        });

        it(`${owner} container ${c.name} uses a pinned image tag`, () => {
          assert.match(c.image, /:[\w][\w.-]*$|@sha256:/, `no tag: ${c.image}`);
          assert.doesNotMatch(c.image, /:latest$/);
        });
      }

      it(`${owner} uses no host namespaces, host paths or service account token`, () => {
        assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC);
        assert.ok(!(spec.volumes ?? []).some((v: Record<string, unknown>) => 'hostPath' in v));
        assert.equal(spec.automountServiceAccountToken, false);
      });
    }

    for (const d of ofKind(objects, 'Deployment')) {
      const spec = d.spec.template.spec;
      const c = spec.containers[0];
      describe(`Deployment/${d.metadata.name}`, () => {
        it('rolls out without losing capacity and fails fast', () => {
          assert.equal(d.spec.strategy.type, 'RollingUpdate');
          assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0);
          assert.ok(
            d.spec.strategy.rollingUpdate.maxSurge,
            'a surge is needed when maxUnavailable is 0',
          );
          assert.ok(d.spec.minReadySeconds >= 5);
          assert.ok(d.spec.revisionHistoryLimit >= 3, 'rollback needs old ReplicaSets');
          // Must cover a cold image pull plus the whole startup budget, and no more than that.
          const startupBudget = c.startupProbe.periodSeconds * c.startupProbe.failureThreshold;
          assert.ok(d.spec.progressDeadlineSeconds >= startupBudget + d.spec.minReadySeconds + 30);
          assert.ok(d.spec.progressDeadlineSeconds <= 300, 'a bad release must be caught quickly');
        });

        it('leaves replicas to the HPA', () => {
          assert.equal(d.spec.replicas, undefined);
        });

        it('probes /livez for startup and liveness and /readyz for readiness on the ops port', () => {
          assert.equal(c.startupProbe.httpGet.path, '/livez');
          assert.equal(c.livenessProbe.httpGet.path, '/livez');
          assert.equal(c.readinessProbe.httpGet.path, '/readyz');
          for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
            assert.equal(c[p].httpGet.port, 'ops');
          }
          const ports = Object.fromEntries(
            c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
          );
          assert.deepEqual(ports, { http: 8080, ops: 9090 });
          const env = Object.fromEntries(
            c.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
          );
          assert.equal(env.PORT, '8080');
          assert.equal(env.OPS_PORT, '9090');
          // Liveness must be slower to give up than readiness: a slow database takes a pod out of
          // the Service, it does not restart it.
          const giveUp = (p: { periodSeconds: number; failureThreshold: number }) =>
            p.periodSeconds * p.failureThreshold;
          assert.ok(giveUp(c.livenessProbe) > giveUp(c.readinessProbe));
        });

        it('drains and stops inside terminationGracePeriodSeconds', () => {
          const drain = Number(envValue(objects, c, 'DRAIN_DELAY_MS') ?? 5000);
          const inFlight = Number(envValue(objects, c, 'SHUTDOWN_TIMEOUT_MS') ?? 10000);
          const grace = spec.terminationGracePeriodSeconds;
          assert.ok(
            drain >= 3000,
            'a pod that closes before kube-proxy drops it loses requests (0.2-0.6 s measured, cluster/README.md; 3 s leaves room for a busy node)',
          );
          assert.ok(
            grace >= (drain + inFlight) / 1000 + 2,
            `grace ${grace}s < drain ${drain}ms + in-flight ${inFlight}ms + 2s`,
          );
          assert.ok(
            grace <= (drain + inFlight) / 1000 + 15,
            'grace period much longer than the app needs',
          );
        });

        it('writes only to an emptyDir /tmp', () => {
          const tmp = c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/tmp');
          assert.ok(tmp);
          const vol = spec.volumes.find((v: { name: string }) => v.name === tmp.name);
          assert.ok(vol.emptyDir);
        });

        it('reads DATABASE_URL from a Secret, never a literal', () => {
          const db = c.env.find((e: { name: string }) => e.name === 'DATABASE_URL');
          assert.ok(db?.valueFrom?.secretKeyRef?.name);
          assert.equal(db.value, undefined);
        });

        it('spreads pods across zones and nodes', () => {
          const keys = spec.topologySpreadConstraints.map(
            (t: { topologyKey: string }) => t.topologyKey,
          );
          assert.deepEqual(keys.sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
          for (const t of spec.topologySpreadConstraints) {
            assert.deepEqual(t.labelSelector.matchLabels, d.spec.selector.matchLabels);
          }
        });
      });
    }
  });
}

describe('namespace', () => {
  for (const name of overlayNames) {
    it(`overlay ${name} enforces Pod Security "restricted" on its namespace`, () => {
      const objects = overlay(name);
      const [ns, ...more] = ofKind(objects, 'Namespace');
      assert.ok(ns);
      assert.equal(more.length, 0);
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const o of objects.filter((o) => o.kind !== 'Namespace')) {
        assert.equal(o.metadata.namespace, ns.metadata.name, `${o.kind}/${o.metadata.name}`);
      }
    });
  }

  it('local keeps the namespace and hosts a minikube user expects', () => {
    const objects = overlay('local');
    assert.equal(ofKind(objects, 'Namespace')[0]?.metadata.name, '7shifts');
    const hosts = ofKind(objects, 'Ingress').map(
      (i) => `${i.metadata.name}=${i.spec.rules[0].host}`,
    );
    assert.deepEqual(hosts.sort(), ['shifts=container2.7shifts', 'users=container1.7shifts']);
  });

  it('every overlay gives each service its own host', () => {
    const all = overlayNames.flatMap((n) =>
      ofKind(overlay(n), 'Ingress').map((i) => i.spec.rules[0].host),
    );
    assert.equal(new Set(all).size, all.length);
    assert.ok(
      !all.some((h) => h.endsWith('.invalid')),
      'an overlay kept the base placeholder host',
    );
  });
});
