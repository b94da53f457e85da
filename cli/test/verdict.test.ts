import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultReadyTimeoutSeconds,
  kubectlRolloutStatus,
  podFailure,
  restartBaseline,
  rolloutVerdict,
  trackUnready,
} from '../src/rollout/verdict.js';
import { deployment, pod, replicaSet } from './fixtures.js';

describe("kubectl's rollout status algorithm", () => {
  // The cases of kubectl's TestDeploymentStatusViewerStatus, plus the deadline and nil-replicas branches.
  const cases = [
    {
      name: 'an unobserved generation 0 with no updated replicas waits for updates',
      d: deployment({
        generation: 0,
        observedGeneration: 1,
        specReplicas: 1,
        replicas: 1,
        updated: 0,
        available: 1,
      }),
      state: 'progressing',
      message:
        'Waiting for deployment "users" rollout to finish: 0 out of 1 new replicas have been updated...',
    },
    {
      name: 'old replicas still running wait for termination',
      d: deployment({ specReplicas: 1, replicas: 2, updated: 1, available: 2 }),
      state: 'progressing',
      message:
        'Waiting for deployment "users" rollout to finish: 1 old replicas are pending termination...',
    },
    {
      name: 'updated but unavailable replicas wait for availability',
      d: deployment({ specReplicas: 2, replicas: 2, updated: 2, available: 1 }),
      state: 'progressing',
      message:
        'Waiting for deployment "users" rollout to finish: 1 of 2 updated replicas are available...',
    },
    {
      name: 'updated = replicas = available with no old replicas succeeds',
      d: deployment({ specReplicas: 2, replicas: 2, updated: 2, available: 2 }),
      state: 'succeeded',
      message: 'deployment "users" successfully rolled out',
    },
    {
      name: 'a generation the controller has not observed yet waits, even if counts look done',
      d: deployment({
        generation: 2,
        observedGeneration: 1,
        specReplicas: 2,
        replicas: 2,
        updated: 2,
        available: 2,
      }),
      state: 'progressing',
      message: 'Waiting for deployment spec update to be observed...',
    },
    {
      name: 'Progressing=False with ProgressDeadlineExceeded fails',
      d: deployment({
        specReplicas: 2,
        replicas: 3,
        updated: 1,
        available: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
      state: 'failed',
      message: 'deployment "users" exceeded its progress deadline',
    },
    {
      name: 'a deadline condition on an unobserved generation is not trusted yet',
      d: deployment({
        generation: 3,
        observedGeneration: 2,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
      }),
      state: 'progressing',
      message: 'Waiting for deployment spec update to be observed...',
    },
    {
      name: 'NewReplicaSetAvailable on the Progressing condition is not a failure',
      d: deployment({
        specReplicas: 1,
        replicas: 1,
        updated: 1,
        available: 1,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
      }),
      state: 'succeeded',
      message: 'deployment "users" successfully rolled out',
    },
    {
      name: 'without spec.replicas the updated count is not compared',
      d: deployment({ replicas: 0, updated: 0, available: 0 }),
      state: 'succeeded',
      message: 'deployment "users" successfully rolled out',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = kubectlRolloutStatus(c.d);
      assert.equal(v.state, c.state);
      assert.equal(v.message, c.message);
    });
  }
});

const NOW = 1_000_000;
const opts = { readyTimeoutMs: 60_000, now: NOW };

describe('fail-fast rules on a new pod', () => {
  const waiting = (reason: string, message = 'back-off') => ({
    state: { waiting: { reason, message } },
  });
  const failing = [
    ['CrashLoopBackOff', waiting('CrashLoopBackOff')],
    ['ImagePullBackOff', waiting('ImagePullBackOff')],
    ['ErrImagePull', waiting('ErrImagePull')],
    ['CreateContainerConfigError', waiting('CreateContainerConfigError', 'secret "db" not found')],
    ['CreateContainerError', waiting('CreateContainerError')],
    ['InvalidImageName', waiting('InvalidImageName')],
  ] as const;
  for (const [reason, container] of failing) {
    it(`fails on ${reason}`, () => {
      const f = podFailure(
        pod({ name: 'users-b-1', hash: 'b', phase: 'Pending', container }),
        undefined,
        opts,
      );
      assert.equal(f?.reason, reason);
      assert.equal(f?.pod, 'users-b-1');
      assert.equal(f?.container, 'users');
    });
  }

  it('does not fail on ContainerCreating, which resolves by itself', () => {
    const p = pod({
      name: 'p',
      hash: 'b',
      phase: 'Pending',
      container: waiting('ContainerCreating'),
    });
    assert.equal(podFailure(p, undefined, opts), undefined);
  });

  it('fails when the kubelet restarted a container (e.g. its startup probe failed)', () => {
    const p = pod({
      name: 'p',
      hash: 'b',
      container: {
        restartCount: 1,
        state: { running: {} },
        lastState: { terminated: { reason: 'Error', exitCode: 137 } },
      },
    });
    const f = podFailure(p, undefined, opts);
    assert.equal(f?.reason, 'ContainerRestarted');
    assert.match(f?.message ?? '', /Error, exit code 137/);
  });

  it('ignores restarts that happened before our change (the restart baseline)', () => {
    const p = pod({
      name: 'p',
      hash: 'a',
      ready: true,
      container: { restartCount: 2, state: { running: {} } },
    });
    const baseline = restartBaseline([p]);
    assert.equal(podFailure(p, undefined, { ...opts, restartBaseline: baseline }), undefined);
    const again = pod({
      name: 'p',
      hash: 'a',
      container: { restartCount: 3, state: { running: {} } },
    });
    assert.equal(
      podFailure(again, undefined, { ...opts, restartBaseline: baseline })?.reason,
      'ContainerRestarted',
    );
  });

  it('fails a pod running unready for longer than the ready timeout, not before', () => {
    const p = pod({ name: 'p', hash: 'b', container: { state: { running: {} } } });
    assert.equal(podFailure(p, NOW - 59_000, opts), undefined);
    const f = podFailure(p, NOW - 60_000, opts);
    assert.equal(f?.reason, 'NeverReady');
    assert.match(f?.message ?? '', /running for 60s without becoming Ready/);
  });

  it('ignores terminating pods', () => {
    const p = pod({
      name: 'p',
      hash: 'b',
      terminating: true,
      container: waiting('CrashLoopBackOff'),
    });
    assert.equal(podFailure(p, undefined, opts), undefined);
  });
});

describe('tracking how long pods have been running unready', () => {
  const running = { state: { running: {} } };
  it('keeps the first time a pod was seen unready and forgets pods that turned ready', () => {
    const first = trackUnready(new Map(), [pod({ name: 'a', hash: 'b', container: running })], 10);
    const second = trackUnready(first, [pod({ name: 'a', hash: 'b', container: running })], 20);
    assert.equal(second.get('a'), 10);
    const third = trackUnready(
      second,
      [pod({ name: 'a', hash: 'b', ready: true, container: running })],
      30,
    );
    assert.equal(third.has('a'), false);
  });
  it('does not start the clock while containers are still being created', () => {
    const p = pod({
      name: 'a',
      hash: 'b',
      phase: 'Pending',
      container: { state: { waiting: { reason: 'ContainerCreating' } } },
    });
    assert.equal(trackUnready(new Map(), [p], 10).size, 0);
  });
});

describe('the combined rollout verdict', () => {
  const rsOld = replicaSet({
    name: 'users-a',
    revision: 1,
    image: 'ghcr.io/acme/users:0.9.0',
    created: '2025-01-01T00:00:00Z',
    replicas: 2,
  });
  const rsNew = replicaSet({
    name: 'users-b',
    revision: 2,
    image: 'ghcr.io/acme/users:1.0.0',
    created: '2025-01-02T00:00:00Z',
    replicas: 1,
  });
  const progressing = deployment({
    generation: 2,
    observedGeneration: 2,
    specReplicas: 2,
    replicas: 3,
    updated: 1,
    available: 2,
    revision: 2,
  });
  const base = {
    replicaSets: [rsOld, rsNew],
    unreadySince: new Map<string, number>(),
    now: NOW,
    readyTimeoutMs: 60_000,
  };
  const crash = {
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
    restartCount: 3,
  };

  it('fails fast on a crashing pod of the new ReplicaSet', () => {
    const v = rolloutVerdict({
      ...base,
      deployment: progressing,
      pods: [pod({ name: 'users-b-x', hash: 'b', container: crash })],
    });
    assert.equal(v.state, 'failed');
    assert.equal(v.state === 'failed' && v.reason, 'CrashLoopBackOff');
  });

  it('does not blame the release for a crashing pod of an old ReplicaSet', () => {
    const v = rolloutVerdict({
      ...base,
      deployment: progressing,
      pods: [pod({ name: 'users-a-x', hash: 'a', container: crash })],
    });
    assert.equal(v.state, 'progressing');
  });

  it('waits for our own generation before judging pods', () => {
    const v = rolloutVerdict({
      ...base,
      deployment: progressing,
      minGeneration: 3,
      pods: [pod({ name: 'users-b-x', hash: 'b', container: crash })],
    });
    assert.deepEqual(v, {
      state: 'progressing',
      message: 'Waiting for deployment spec update to be observed...',
    });
  });

  it('fails fast when the new ReplicaSet cannot create pods (e.g. admission rejects them)', () => {
    const rejected = replicaSet({
      name: 'users-b',
      revision: 2,
      image: 'ghcr.io/acme/users:1.0.0',
      conditions: [
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message: 'violates PodSecurity "restricted"',
        },
      ],
    });
    const v = rolloutVerdict({
      ...base,
      replicaSets: [rsOld, rejected],
      deployment: progressing,
      pods: [],
    });
    assert.equal(v.state === 'failed' && v.reason, 'FailedCreate');
    assert.match(v.message, /PodSecurity/);
  });

  it('reports the never-ready rule once the ready timeout has passed', () => {
    const p = pod({ name: 'users-b-x', hash: 'b', container: { state: { running: {} } } });
    const v = rolloutVerdict({
      ...base,
      deployment: progressing,
      pods: [p],
      unreadySince: new Map([['users-b-x', NOW - 61_000]]),
    });
    assert.equal(v.state === 'failed' && v.reason, 'NeverReady');
  });

  it("passes kubectl's success through even if an old pod is unhealthy", () => {
    const done = deployment({
      generation: 2,
      observedGeneration: 2,
      specReplicas: 1,
      replicas: 1,
      updated: 1,
      available: 1,
    });
    const v = rolloutVerdict({
      ...base,
      deployment: done,
      pods: [pod({ name: 'users-a-x', hash: 'a', container: crash })],
    });
    assert.equal(v.state, 'succeeded');
  });

  it("adds kubectl's Unschedulable warning while waiting", () => {
    const p = pod({
      name: 'users-b-x',
      hash: 'b',
      phase: 'Pending',
      unschedulable: '0/3 nodes are available',
      container: { state: { waiting: { reason: 'ContainerCreating' } } },
    });
    const v = rolloutVerdict({ ...base, deployment: progressing, pods: [p] });
    assert.equal(v.state === 'progressing' && v.warning, '0/3 nodes are available');
  });
});

describe('the default ready timeout', () => {
  it('is at least 30 s without probes', () => {
    assert.equal(defaultReadyTimeoutSeconds(deployment({})), 30);
  });
  it('covers the startup and readiness probe budgets plus slack', () => {
    const d = deployment({});
    const c = d.spec!.template.spec!.containers[0]!;
    c.startupProbe = { periodSeconds: 2, failureThreshold: 15 };
    c.readinessProbe = { initialDelaySeconds: 5, periodSeconds: 5 };
    // 2*15 + (5 + 5*3) + 10
    assert.equal(defaultReadyTimeoutSeconds(d), 60);
  });
});
