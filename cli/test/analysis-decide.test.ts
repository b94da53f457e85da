import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_THRESHOLDS,
  alphaPerTest,
  checkTimes,
  decideCheck,
  type GroupCounts,
} from '../src/analysis/decide.js';
import { TYPICAL, group, slower } from './analysis-fixtures.js';

const ALPHA = alphaPerTest(checkTimes(60).length);

function decide(n: GroupCounts, old: GroupCounts, final = true, thresholds = DEFAULT_THRESHOLDS) {
  return decideCheck({ new: n, old, thresholds, alpha: ALPHA, final });
}

describe('the analysis decision table', () => {
  const cases: Array<{
    name: string;
    new: GroupCounts;
    old: GroupCounts;
    final?: boolean;
    verdict: 'pass' | 'fail' | 'inconclusive' | 'continue';
    reason?: RegExp;
  }> = [
    {
      name: 'a new pod failing 10% of requests fails, with the rates and counts',
      new: group({ requests: 600, errors: 60, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 1800, errors: 2, latencies: TYPICAL }),
      verdict: 'fail',
      reason: /error rate 10\.0% \(60\/600\) vs 0\.11% \(2\/1800\)/,
    },
    {
      name: 'a new pod 3x slower fails, with both p95s and counts',
      new: group({ requests: 600, errors: 0, latencies: slower(TYPICAL, 3) }),
      old: group({ pods: 3, requests: 1800, errors: 0, latencies: TYPICAL }),
      verdict: 'fail',
      reason: /p95 340ms \(600 requests, 180 over 200ms\) vs 120ms \(1800 requests, 18 over\)/,
    },
    {
      name: 'the kwok emulation: every request 150 ms on the new pod vs 50 ms fails',
      new: group({ requests: 300, errors: 0, latencies: [[0.15, 1]] }),
      old: group({ pods: 2, requests: 600, errors: 0, latencies: [[0.05, 1]] }),
      verdict: 'fail',
      reason: /p95 195ms \(300 requests, 300 over 50ms\) vs 49ms/,
    },
    {
      name: 'a regression early in the window fails at once, before the window ends',
      new: group({ requests: 200, errors: 25, latencies: TYPICAL }),
      old: group({ pods: 2, requests: 400, errors: 1, latencies: TYPICAL }),
      final: false,
      verdict: 'fail',
    },
    {
      name: 'the same rates and latencies pass at the end of the window',
      new: group({ requests: 600, errors: 3, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 1800, errors: 9, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'equal rates under noise: 1% vs 0.5% on 600 requests is within the threshold',
      new: group({ requests: 600, errors: 6, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 1800, errors: 9, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'a difference above the threshold that is still noise passes (2/100 vs 0/100)',
      new: group({ requests: 100, errors: 2, latencies: TYPICAL }),
      old: group({ requests: 100, errors: 0, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'a significant difference below the threshold passes (0.8% vs 0.3% on 30k)',
      new: group({ requests: 30000, errors: 240, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 90000, errors: 270, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'a p95 1.3x higher is under the 1.5x threshold and passes',
      new: group({ requests: 3000, errors: 0, latencies: slower(TYPICAL, 1.3) }),
      old: group({ pods: 3, requests: 9000, errors: 0, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'a 2x p95 on tiny latencies (+5 ms) is not a regression',
      new: group({ requests: 3000, errors: 0, latencies: [[0.009, 1]] }),
      old: group({ pods: 3, requests: 9000, errors: 0, latencies: [[0.004, 1]] }),
      verdict: 'pass',
    },
    {
      name: 'a faster, more reliable new pod passes',
      new: group({ requests: 600, errors: 0, latencies: slower(TYPICAL, 0.5) }),
      old: group({ pods: 3, requests: 1800, errors: 30, latencies: TYPICAL }),
      verdict: 'pass',
    },
    {
      name: 'too few requests on the new pod at the end is inconclusive, saying how many',
      new: group({ requests: 40, errors: 20, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 1800, errors: 2, latencies: TYPICAL }),
      verdict: 'inconclusive',
      reason: /too little traffic to judge: new pods 40 requests \(need 100 each\)/,
    },
    {
      name: 'too few requests on the old pods is inconclusive too',
      new: group({ requests: 600, errors: 0, latencies: TYPICAL }),
      old: group({ requests: 50, errors: 0, latencies: TYPICAL }),
      verdict: 'inconclusive',
      reason: /old pods 50 requests/,
    },
    {
      name: 'too few requests before the end: keep looking',
      new: group({ requests: 40, errors: 0, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 120, errors: 0, latencies: TYPICAL }),
      final: false,
      verdict: 'continue',
    },
    {
      name: 'no traffic at all is inconclusive',
      new: group({ requests: 0, errors: 0, latencies: [] }),
      old: group({ pods: 0, requests: 0, errors: 0, latencies: [] }),
      verdict: 'inconclusive',
    },
    {
      name: 'nothing wrong before the end of the window: keep looking',
      new: group({ requests: 600, errors: 1, latencies: TYPICAL }),
      old: group({ pods: 3, requests: 1800, errors: 3, latencies: TYPICAL }),
      final: false,
      verdict: 'continue',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = decide(c.new, c.old, c.final ?? true);
      assert.equal(v.verdict, c.verdict, JSON.stringify(v));
      if (c.reason) {
        const text =
          v.verdict === 'fail'
            ? v.reasons.join('; ')
            : v.verdict === 'inconclusive'
              ? v.reason
              : '';
        assert.match(text, c.reason);
      }
    });
  }

  it('reports both metrics when both regress', () => {
    const v = decide(
      group({ requests: 600, errors: 60, latencies: slower(TYPICAL, 3) }),
      group({ pods: 3, requests: 1800, errors: 2, latencies: TYPICAL }),
    );
    assert.equal(v.verdict, 'fail');
    assert.equal(v.verdict === 'fail' ? v.reasons.length : 0, 2);
  });

  it('carries the numbers of both groups in its evidence', () => {
    const v = decide(
      group({ requests: 600, errors: 6, latencies: TYPICAL }),
      group({ pods: 3, requests: 1800, errors: 9, latencies: TYPICAL }),
    );
    assert.deepEqual(
      [v.evidence.new.requests, v.evidence.new.errors, v.evidence.old.pods, v.evidence.old.errors],
      [600, 6, 3, 9],
    );
    assert.equal(v.evidence.new.errorRate, 0.01);
    assert.ok(v.evidence.new.p95! > 0.08 && v.evidence.new.p95! < 0.2);
    assert.equal(v.evidence.latencyBound, 0.2);
  });

  it('thresholds are honoured: a stricter --max-error-increase fails what the default passes', () => {
    const n = group({ requests: 6000, errors: 72, latencies: TYPICAL });
    const old = group({ pods: 3, requests: 18000, errors: 90, latencies: TYPICAL });
    assert.equal(decide(n, old).verdict, 'pass');
    assert.equal(
      decide(n, old, true, { ...DEFAULT_THRESHOLDS, maxErrorIncrease: 0.005 }).verdict,
      'fail',
    );
  });
});

describe('checks and significance levels', () => {
  it('looks every 15 s from 30 s and at the end of the window', () => {
    assert.deepEqual(checkTimes(60), [30, 45, 60]);
    assert.deepEqual(checkTimes(30), [30]);
    assert.deepEqual(checkTimes(100), [30, 45, 60, 75, 90, 100]);
  });

  it('splits the 1% false-fail budget over both metrics and every check (Bonferroni)', () => {
    assert.equal(alphaPerTest(3), 0.01 / 6);
    assert.equal(alphaPerTest(1), 0.005);
  });
});
