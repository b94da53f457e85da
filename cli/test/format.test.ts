import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDiagnosis,
  formatDuration,
  formatHistory,
  formatProgress,
  formatStatus,
  formatTable,
  progressKey,
  type Progress,
} from '../src/rollout/format.js';
import { hpaMetrics } from '../src/rollout/hpa.js';
import { Output } from '../src/output.js';
import { historyRows } from '../src/commands/history.js';
import { deployment, replicaSet } from './fixtures.js';

const NOW = Date.parse('2025-01-10T12:00:00Z');

describe('durations', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [59_400, '59s'],
    [61_000, '1m01s'],
    [3_600_000 + 120_000, '1h02m'],
    [3 * 86_400_000, '3d'],
  ];
  for (const [ms, text] of cases)
    it(`${ms} ms is ${text}`, () => assert.equal(formatDuration(ms), text));
});

describe('progress lines', () => {
  const p: Progress = {
    service: 'users',
    revision: 4,
    desired: 3,
    updated: 2,
    ready: 1,
    available: 1,
    old: 1,
    elapsedMs: 12_000,
    message: '',
  };
  it('shows updated / ready / available against desired, and old pods left', () => {
    assert.equal(
      formatProgress(p),
      '[  12s] users  rev 4  updated 2/3  ready 1/3  available 1/3  old 1',
    );
  });
  it('has a change key that ignores the elapsed time', () => {
    assert.equal(progressKey(p), progressKey({ ...p, elapsedMs: 99_000 }));
    assert.notEqual(progressKey(p), progressKey({ ...p, ready: 2 }));
  });
  it('appends a warning', () => {
    assert.match(
      formatProgress({ ...p, warning: '0/3 nodes are available' }),
      /\(warning: 0\/3 nodes are available\)$/,
    );
  });
});

describe('tables', () => {
  it('aligns columns and does not pad the last one', () => {
    assert.equal(
      formatTable([
        ['a', 'bb', 'c'],
        ['ccc', 'd', 'eeee'],
      ]),
      'a    bb  c\nccc  d   eeee',
    );
  });
});

describe('history', () => {
  it('lists revisions in order with image, cause, age and the live one starred', () => {
    const d = deployment({ image: 'reg/users:2', revision: 2 });
    const rss = [
      replicaSet({
        name: 'users-b',
        revision: 2,
        image: 'reg/users:2',
        created: '2025-01-10T11:00:00Z',
        replicas: 2,
        annotations: { 'kubernetes.io/change-cause': 'shiftops deploy users reg/users:2 by bob' },
      }),
      replicaSet({
        name: 'users-a',
        revision: 1,
        image: 'reg/users:1',
        created: '2025-01-09T12:00:00Z',
      }),
    ];
    const rows = historyRows(d, rss, 'users');
    assert.deepEqual(
      rows.map((r) => [r.revision, r.live]),
      [
        [1, false],
        [2, true],
      ],
    );
    assert.equal(
      formatHistory('users', rows, NOW),
      [
        'users (* = live)',
        '   REVISION  AGE     PODS  IMAGE        ANALYSIS  CHANGE-CAUSE',
        '   1         24h00m  0/0   reg/users:1  -         <none>',
        '*  2         1h00m   0/2   reg/users:2  -         shiftops deploy users reg/users:2 by bob',
      ].join('\n'),
    );
  });
});

describe('status', () => {
  it('shows replicas, HPA metrics and warnings', () => {
    const text = formatStatus(
      {
        service: 'users',
        found: true,
        revision: 5,
        image: 'reg/users:5',
        desired: 3,
        updated: 3,
        ready: 2,
        available: 2,
        rollout:
          'Waiting for deployment "users" rollout to finish: 2 of 3 updated replicas are available...',
        hpa: {
          name: 'users',
          minReplicas: 2,
          maxReplicas: 10,
          currentReplicas: 3,
          desiredReplicas: 3,
          metrics: [{ name: 'resource cpu', current: '45%', target: '70%' }],
        },
        warnings: [
          {
            object: 'Pod/users-b-x',
            reason: 'Unhealthy',
            message: 'Readiness probe failed',
            count: 4,
            lastSeen: '2025-01-10T11:58:00Z',
          },
        ],
      },
      NOW,
    );
    assert.match(text, /replicas {3}desired 3 {2}updated 3 {2}ready 2 {2}available 2/);
    assert.match(text, /hpa {8}users: 3 replicas \(desired 3, min 2, max 10\)/);
    assert.match(text, /resource cpu: 45% \/ 70%/);
    assert.match(text, /2m00s ago {2}Pod\/users-b-x {2}Unhealthy: Readiness probe failed \(x4\)/);
  });
  it('says when a service has no Deployment', () => {
    assert.equal(
      formatStatus({ service: 'shifts', found: false, warnings: [] }, NOW),
      'shifts: no Deployment found',
    );
  });
});

describe('HPA metrics', () => {
  it('pairs each target with its current value, CPU and custom alike', () => {
    const rows = hpaMetrics({
      spec: {
        maxReplicas: 10,
        scaleTargetRef: { kind: 'Deployment', name: 'users' },
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
          },
          {
            type: 'Pods',
            pods: {
              metric: { name: 'http_request_p95_seconds' },
              target: { type: 'AverageValue', averageValue: '250m' },
            },
          },
        ],
      },
      status: {
        desiredReplicas: 3,
        currentMetrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } },
          },
        ],
      },
    });
    assert.deepEqual(rows, [
      { name: 'resource cpu', target: '70%', current: '45%' },
      { name: 'pods http_request_p95_seconds', target: '250m (avg)' },
    ]);
  });
});

describe('diagnosis', () => {
  it('shows the pod warning events and the last log lines', () => {
    const text = formatDiagnosis(
      {
        pod: 'users-b-x',
        container: 'users',
        events: [
          {
            object: 'Pod/users-b-x',
            reason: 'BackOff',
            message: 'Back-off restarting failed container',
            count: 3,
            lastSeen: '2025-01-10T11:59:50Z',
          },
        ],
        logs: { lines: ['listening', 'error: DATABASE_URL is not set'] },
      },
      NOW,
    );
    assert.match(text, /BackOff: Back-off restarting failed container \(x3\)/);
    assert.match(
      text,
      /container users: last log lines ---\n {2}listening\n {2}error: DATABASE_URL is not set$/,
    );
  });
  it('says why logs are missing instead of failing', () => {
    const text = formatDiagnosis(
      { pod: 'p', events: [], logs: { unavailable: 'pods "p" not found' } },
      NOW,
    );
    assert.match(text, /\(none\)/);
    assert.match(text, /\(logs unavailable: pods "p" not found\)/);
  });
});

describe('output modes', () => {
  const sink = () => {
    const chunks: string[] = [];
    return { chunks, write: (s: string) => chunks.push(s) };
  };
  const p: Progress = {
    service: 'users',
    desired: 2,
    updated: 1,
    ready: 0,
    available: 0,
    old: 1,
    elapsedMs: 1000,
    message: '',
  };

  it('prints one line per change when not a TTY', () => {
    const out = sink();
    const o = new Output({ json: false, quiet: false, tty: false }, out, sink());
    o.progress(p);
    o.progress({ ...p, elapsedMs: 2000 });
    o.progress({ ...p, ready: 1, elapsedMs: 3000 });
    assert.equal(out.chunks.length, 2);
  });

  it('rewrites one line in place on a TTY and ends it before the result', () => {
    const out = sink();
    const o = new Output({ json: false, quiet: false, tty: true }, out, sink());
    o.progress(p);
    o.progress({ ...p, ready: 1 });
    o.result({}, 'done');
    assert.ok(out.chunks[0]?.startsWith('\r\x1b[2K['));
    assert.deepEqual(out.chunks.slice(-2), ['\n', 'done\n']);
  });

  it('prints exactly one JSON document and nothing else with --json', () => {
    const out = sink();
    const err = sink();
    const o = new Output({ json: true, quiet: false, tty: true }, out, err);
    o.info('hello');
    o.progress(p);
    o.error('diagnostics');
    o.result({ outcome: 'succeeded' }, 'human');
    assert.deepEqual(JSON.parse(out.chunks.join('')), { outcome: 'succeeded' });
    assert.equal(err.chunks.length, 0);
  });

  it('keeps results and errors with --quiet', () => {
    const out = sink();
    const err = sink();
    const o = new Output({ json: false, quiet: true, tty: false }, out, err);
    o.info('hello');
    o.progress(p);
    o.error('FAILED');
    o.result({}, 'rolled back');
    assert.deepEqual(out.chunks, ['rolled back\n']);
    assert.deepEqual(err.chunks, ['FAILED\n']);
  });
});
