import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { costPlot, niceMax, timelinePlot } from '../plot.js';
import type { RunResult } from '../report.js';

describe('niceMax', () => {
  const cases: Array<[number, number]> = [
    [0, 1],
    [1, 1],
    [7, 10],
    [12, 20],
    [300, 500],
    [501, 1000],
    [0.3, 0.5],
  ];
  for (const [max, want] of cases) it(`${max} -> ${want}`, () => assert.equal(niceMax(max), want));
});

describe('cost plot', () => {
  const r = (
    replicas: number,
    total: number,
    doneMs: number,
    tool: 'shiftops' | 'kubectl' = 'shiftops',
  ): RunResult => ({
    replicas,
    release: 'good',
    tool,
    outcome: 'succeeded',
    verdictRight: true,
    verdictMs: doneMs,
    doneMs,
    requests: { total, byVerb: {}, byVerbAndResource: {} },
    peakRssKb: 1,
  });

  it('draws one line per tool and release present, points where the values are', () => {
    const svg = costPlot([r(10, 20, 5_000), r(100, 25, 20_000), r(10, 8, 6_000, 'kubectl')]);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // two panels x two series present
    assert.equal(svg.match(/<polyline /g)?.length, 4);
    // requests panel: x 0..100 over 48..348, y 0..50 over 204..28: (10, 20) -> (78.0, 133.6)
    assert.match(svg, /points="78\.0,133\.6 348\.0,116\.0"/);
  });

  it('refuses to plot nothing', () => assert.throws(() => costPlot([]), /no runs/));
});

describe('timeline plot', () => {
  const at = (
    t: number,
    desired: number,
    ready: number,
    cpu: number | undefined,
    load: number,
  ) => ({
    t,
    desired,
    ready,
    cpu,
    load,
    zones: {},
  });

  it('replicas and CPU over time, in two panels, the points where the values are', () => {
    const svg = timelinePlot([
      at(0, 2, 2, undefined, 250),
      at(50_000, 100, 60, 250, 250),
      at(100_000, 2, 2, 10, 10),
    ]);
    assert.equal(svg.match(/<polyline /g)?.length, 4);
    // replicas panel: x 0..100 s over 48..348, y 0..100 over 204..28: desired (50 s, 100) -> (198.0, 28.0)
    assert.match(svg, /points="48\.0,200\.5 198\.0,28\.0 348\.0,200\.5"/);
    // CPU panel (offset 360, y 0..500): the HPA's average has no point before its first metric
    assert.match(svg, /points="558\.0,116\.0 708\.0,200\.5"/);
    assert.match(svg, /HPA average CPU %/);
  });

  it('refuses to plot nothing', () => assert.throws(() => timelinePlot([]), /no samples/));
});
