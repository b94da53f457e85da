import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checks, markdownTable, watchBound, type RunResult } from '../report.js';

function run(over: Partial<RunResult> & { byVerb: Record<string, number> }): RunResult {
  const { byVerb, ...rest } = over;
  const total = Object.values(byVerb).reduce((a, b) => a + b, 0);
  return {
    replicas: 10,
    release: 'good',
    tool: 'shiftops',
    outcome: 'succeeded',
    verdictRight: true,
    verdictMs: 10_000,
    doneMs: 10_000,
    requests: { total, byVerb, byVerbAndResource: {} },
    peakRssKb: 80 * 1024,
    ...rest,
  };
}

const failed = (rs: RunResult[]) =>
  checks(rs)
    .filter((c) => !c.ok)
    .map((c) => c.name);

describe('watch bound', () => {
  const cases: Array<{ release: 'good' | 'bad'; doneMs: number; bound: number }> = [
    { release: 'good', doneMs: 10_000, bound: 6 }, // 3 x (1 + 1)
    { release: 'good', doneMs: 24_000, bound: 6 },
    { release: 'good', doneMs: 24_001, bound: 9 },
    { release: 'bad', doneMs: 30_000, bound: 12 }, // 3 x (2 + 2)
  ];
  for (const c of cases)
    it(`${c.release}, ${c.doneMs} ms -> ${c.bound}`, () => {
      assert.equal(watchBound(run({ release: c.release, doneMs: c.doneMs, byVerb: {} })), c.bound);
    });
});

describe('scale checks', () => {
  const small = run({ replicas: 10, byVerb: { create: 7, get: 1, list: 3, patch: 1, watch: 3 } });
  const cases: Array<{ name: string; runs: RunResult[]; fails: string[] }> = [
    {
      name: 'constant calls and timed renewals pass',
      runs: [
        small,
        run({
          replicas: 300,
          doneMs: 90_000,
          byVerb: { create: 7, get: 1, list: 3, patch: 2, watch: 12 },
        }),
      ],
      fails: [],
    },
    {
      name: 'a CLI that polls (gets growing with time) fails the constant-calls check',
      runs: [
        small,
        run({
          replicas: 300,
          doneMs: 90_000,
          byVerb: { create: 7, get: 91, list: 3, patch: 1, watch: 3 },
        }),
      ],
      fails: ['non-watch requests constant: good at 300 vs 10'],
    },
    {
      name: 'a watch per event fails the renewal bound',
      runs: [
        small,
        run({
          replicas: 300,
          doneMs: 30_000,
          byVerb: { create: 7, get: 1, list: 3, patch: 1, watch: 40 },
        }),
      ],
      fails: ['watches within the renewal bound: good at 300'],
    },
    {
      name: 'a per-pod request fails the per-replica check too',
      runs: [
        run({ replicas: 2, byVerb: { get: 2, watch: 3 } }),
        run({ replicas: 100, byVerb: { get: 300, watch: 3 } }),
      ],
      fails: [
        'non-watch requests constant: good at 100 vs 2',
        'requests per replica do not grow: good, 100 vs 2',
      ],
    },
    {
      name: 'a wrong verdict fails',
      runs: [run({ release: 'bad', outcome: 'exit 0', verdictRight: false, byVerb: { watch: 3 } })],
      fails: ['verdict right: bad release at 10 replicas'],
    },
    {
      name: 'kubectl runs are reported, not judged',
      runs: [
        small,
        run({ tool: 'kubectl', replicas: 300, verdictRight: false, byVerb: { get: 500 } }),
      ],
      fails: [],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(failed(c.runs), c.fails));
});

describe('markdown table', () => {
  it('sorts by replicas, release, tool and marks a wrong verdict', () => {
    const t = markdownTable([
      run({ replicas: 100, byVerb: { watch: 3 } }),
      run({ replicas: 10, tool: 'kubectl', byVerb: { get: 2, watch: 1 } }),
      run({
        replicas: 10,
        release: 'bad',
        outcome: 'exit 0',
        verdictRight: false,
        verdictMs: 4_200,
        doneMs: 9_000,
        byVerb: { watch: 6 },
      }),
      run({ replicas: 10, byVerb: { create: 7, watch: 3 } }),
    ]).split('\n');
    assert.equal(t.length, 6);
    assert.match(t[0]!, /^\| Replicas \| Release \| Tool /);
    assert.deepEqual(
      t.slice(2).map((l) =>
        l
          .split('|')
          .slice(1, 4)
          .map((c) => c.trim())
          .join(' '),
      ),
      ['10 good shiftops', '10 good kubectl', '10 bad shiftops', '100 good shiftops'],
    );
    assert.equal(
      t[2],
      '| 10 | good | shiftops | succeeded | 10.0 s | 10.0 s | 10 | create 7, watch 3 | 80 MB |',
    );
    assert.match(t[4]!, /\| exit 0 \(WRONG\) \| 4\.2 s \| 9\.0 s \|/);
  });
});
