import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  faultRequestsNeeded,
  goodRequestsNeeded,
  rateFor,
  releaseErrorShare,
} from '../lib/error-window.js';

describe('faultRequestsNeeded', () => {
  const cases: [string, number, number, number, number, number][] = [
    // name, total, errors, share, margin, expected
    ['an empty window: any request', 0, 0, 0.1, 1.5, 0],
    ['10% errors must match the prior count', 1200, 0, 0.1, 1, 1200],
    ['with a margin', 1200, 0, 0.1, 1.5, 1800],
    ['50% errors need a ninth', 900, 0, 0.5, 1, 100],
    ['prior errors count towards it', 1000, 25, 0.1, 1, 500],
    ['already over the threshold', 100, 10, 0.1, 1.5, 0],
  ];
  for (const [name, total, errors, share, margin, want] of cases)
    it(name, () => assert.equal(faultRequestsNeeded({ total, errors }, share, 0.05, margin), want));

  it('the ratio with that many requests is over the threshold', () => {
    const w = { total: 1234, errors: 3 };
    const n = faultRequestsNeeded(w, 0.1, 0.05, 1.01);
    assert.ok((w.errors + 0.1 * n) / (w.total + n) > 0.05);
    assert.ok((w.errors + 0.1 * (n - 30)) / (w.total + n - 30) < 0.05, 'and not far beyond');
  });

  it('refuses a share at or under the threshold', () => {
    assert.throws(() => faultRequestsNeeded({ total: 1, errors: 0 }, 0.05, 0.05, 1), /never/);
  });
});

describe('goodRequestsNeeded', () => {
  const cases: [string, number, number, number, number][] = [
    ['40 errors in 400 requests need 400 more', 400, 40, 1, 400],
    ['with a margin', 400, 40, 1.5, 600],
    ['already under', 1000, 10, 1.5, 0],
    ['no errors', 0, 0, 1.5, 0],
  ];
  for (const [name, total, errors, margin, want] of cases)
    it(name, () => assert.equal(goodRequestsNeeded({ total, errors }, 0.05, margin), want));
});

describe('rateFor', () => {
  const cases: [number, number, number, number, number][] = [
    [0, 40, 4, 25, 4],
    [1800, 40, 4, 25, 25],
    [600, 40, 4, 25, 15],
    [601, 40, 4, 25, 16],
  ];
  for (const [n, s, min, max, want] of cases)
    it(`${n} requests in ${s} s within [${min}, ${max}]: ${want}/s`, () =>
      assert.equal(rateFor(n, s, min, max), want));
});

describe('releaseErrorShare', () => {
  const tsv =
    '# tag  FAULT\n1.0.0          none\n1.3.0-errors   errors:10\n1.3.0-slow     slow:200\n';
  it('reads errors:N as N%', () => assert.equal(releaseErrorShare(tsv, '1.3.0-errors'), 0.1));
  it('a release without an errors fault', () =>
    assert.throws(() => releaseErrorShare(tsv, '1.3.0-slow'), /slow:200, not errors:N/));
  it('an unknown release', () =>
    assert.throws(() => releaseErrorShare(tsv, '9.9.9'), /not in releases.tsv/));
});
