import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hpaChecks, summarize, timelineTable, zoneSkew, type Sample } from '../timeline.js';

/** A sample at t seconds: load %, desired, ready, pods per zone a/b/c. */
function s(
  t: number,
  load: number,
  desired: number,
  ready: number,
  zones: number[],
  cpu?: number,
): Sample {
  return {
    t: t * 1000,
    load,
    desired,
    ready,
    cpu,
    zones: Object.fromEntries(zones.map((n, i) => [`zone-${'abc'[i]}`, n])),
  };
}

// 2 -> 12 -> 2 with 3 zones, balanced on the way up.
const good: Sample[] = [
  s(0, 250, 2, 2, [1, 1, 0], 10),
  s(5, 250, 4, 2, [2, 1, 1], 250),
  s(10, 250, 8, 4, [3, 3, 2], 240),
  s(15, 250, 12, 8, [4, 4, 4], 180),
  s(20, 250, 12, 12, [4, 4, 4], 250),
  s(25, 10, 12, 12, [4, 4, 4], 250),
  s(30, 10, 2, 12, [4, 4, 4], 10),
  s(35, 10, 2, 2, [2, 0, 0], 10),
];
const run = (
  samples: Sample[],
  over: Partial<{ min: number; max: number; maxSkew: number }> = {},
) => ({
  min: 2,
  max: 12,
  maxSkew: 1,
  samples,
  ...over,
});
const failed = (samples: Sample[], over = {}) =>
  hpaChecks(run(samples, over))
    .filter((c) => !c.ok)
    .map((c) => c.name);

describe('zoneSkew', () => {
  const cases: Array<[number[], number]> = [
    [[], 0],
    [[3], 0],
    [[4, 4, 4], 0],
    [[34, 34, 32], 2],
    [[2, 0, 0], 2],
  ];
  for (const [zones, want] of cases)
    it(`${zones.join('/') || '(none)'} -> ${want}`, () =>
      assert.equal(zoneSkew(Object.fromEntries(zones.map((n, i) => [String(i), n]))), want));
});

describe('summarize', () => {
  it('time to max from the load going up, back to min from the load going down, the midpoints of the way up', () => {
    const m = summarize(run(good));
    assert.equal(m.toMaxMs, 20_000);
    assert.equal(m.loadDownMs, 25_000);
    assert.equal(m.backToMinMs, 10_000);
    assert.deepEqual(m.peakZones, { 'zone-a': 4, 'zone-b': 4, 'zone-c': 4 });
    // 1/4 of 12 = 3 pods: first at 5 s (4 pods); 1/2 = 6: 10 s (8); 3/4 = 9: 15 s (12)
    assert.deepEqual(
      m.midpoints.map((x) => x.t),
      [5_000, 10_000, 15_000],
    );
  });

  it('a step that jumps past a midpoint: the peak is the first sample at or above it', () => {
    // 2 -> 4 -> 8 -> 12 at once (as a cold CI run had 11 -> 20 of 20): 3/4 of 12 = 9 pods.
    const jump = [
      good[0]!,
      good[1]!,
      good[2]!,
      s(15, 250, 12, 12, [4, 4, 4], 250),
      ...good.slice(5),
    ];
    const m = summarize(run(jump));
    assert.deepEqual(
      m.midpoints.map((x) => x.t),
      [5_000, 10_000, 15_000],
    );
    assert.deepEqual(failed(jump), []);
  });

  it('ready at min is not back until the extra pods are gone', () => {
    const lingering = [...good.slice(0, 7), s(35, 10, 2, 2, [2, 1, 0])];
    assert.equal(summarize(run(lingering)).backToMinMs, undefined);
  });
});

describe('hpa checks', () => {
  it('all pass on a run that reaches max balanced and comes back', () =>
    assert.deepEqual(failed(good), []));

  it('never at max: the max check fails (and there is no peak to check)', () => {
    const low = good.map((x) => ({
      ...x,
      ready: Math.min(x.ready, 8),
      desired: Math.min(x.desired, 8),
    }));
    assert.deepEqual(failed(low), [
      'reaches its max 12',
      'back to its min 2',
      'zone spread at the peak within maxSkew 1',
    ]);
  });

  it('stuck above min after the load drops: the min check fails', () =>
    assert.deepEqual(failed(good.slice(0, 7)), ['back to its min 2']));

  it('a zone 2 short at the peak fails the peak check', () => {
    const skewed = good.map((x) => (x.t === 20_000 ? s(20, 250, 12, 12, [5, 5, 2]) : x));
    assert.deepEqual(failed(skewed), ['zone spread at the peak within maxSkew 1']);
  });

  it('a skewed midpoint fails that midpoint only; a larger maxSkew allows it', () => {
    const skewed = good.map((x) => (x.t === 10_000 ? s(10, 250, 8, 4, [4, 4, 0]) : x));
    assert.deepEqual(failed(skewed), ['zone spread on the way up at 6+ pods within maxSkew 1']);
    assert.deepEqual(failed(skewed, { maxSkew: 4 }), []);
  });

  it('the way down is not checked for spread (the ReplicaSet controller deletes by node, not zone)', () => {
    const down = [...good.slice(0, 7), s(33, 10, 2, 6, [5, 1, 0]), good[7]!];
    assert.deepEqual(failed(down), []);
  });
});

describe('timeline table', () => {
  it('keeps the first, the last and every change, with CPU and zones', () => {
    const samples = [good[0]!, good[0]!, good[1]!, good[1]!, good[7]!];
    const t = timelineTable(samples.map((x, i) => ({ ...x, t: i * 1000 })));
    assert.equal(
      t,
      [
        '| t (s) | emulated CPU per pod | desired | ready | HPA average CPU | pods per zone (zone-a/zone-b/zone-c) |',
        '| ---: | ---: | ---: | ---: | ---: | --- |',
        '| 0.0 | 250% | 2 | 2 | 10% | 1/1/0 |',
        '| 2.0 | 250% | 4 | 2 | 250% | 2/1/1 |',
        '| 4.0 | 10% | 2 | 2 | 10% | 2/0/0 |',
      ].join('\n'),
    );
  });

  it('no metric yet shows as -', () =>
    assert.match(timelineTable([s(0, 250, 2, 2, [1, 1])]), /\| 2 \| 2 \| - \|/));
});
