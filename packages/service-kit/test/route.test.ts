import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  LARGE_ON_LANE,
  LARGE_RESULT_ROWS,
  ResultSizes,
  route,
  type RouteState,
} from '../src/db/route.js';

const idle: RouteState = {
  large: false,
  poolBusy: 0,
  poolSize: 8,
  laneInFlight: [0, 0],
  laneLarge: [0, 0],
};

describe('which connection a single statement takes', () => {
  const cases: { name: string; state: Partial<RouteState>; expect: number | 'pool' }[] = [
    { name: 'small, all idle: the first lane', state: {}, expect: 0 },
    { name: 'small: the lane with fewer in flight', state: { laneInFlight: [3, 1] }, expect: 1 },
    {
      name: 'small: a lane even when the pool is free and the lanes are deep',
      state: { laneInFlight: [40, 41] },
      expect: 0,
    },
    { name: 'large, a pooled client free: the pool', state: { large: true }, expect: 'pool' },
    {
      name: 'large, pool busy: a lane without a large statement',
      state: { large: true, poolBusy: 8, laneInFlight: [2, 5], laneLarge: [LARGE_ON_LANE, 0] },
      expect: 1,
    },
    {
      name: 'large, pool busy: of the lanes with room, the one with fewer in flight',
      state: { large: true, poolBusy: 8, laneInFlight: [4, 2] },
      expect: 1,
    },
    {
      name: 'large, pool busy, lanes full of large ones: wait for the pool',
      state: {
        large: true,
        poolBusy: 8,
        laneInFlight: [1, 1],
        laneLarge: [LARGE_ON_LANE, LARGE_ON_LANE],
      },
      expect: 'pool',
    },
    {
      name: 'pipelining off (no lanes): the pool, small or large',
      state: { laneInFlight: [], laneLarge: [] },
      expect: 'pool',
    },
    {
      name: 'pipelining off, pool busy: the pool (it queues)',
      state: { large: true, poolBusy: 9, laneInFlight: [], laneLarge: [] },
      expect: 'pool',
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(route({ ...idle, ...c.state }), c.expect));
  }
});

describe('result sizes learnt per statement', () => {
  test('an unknown statement is small; one large answer makes it large', () => {
    const sizes = new ResultSizes();
    assert.equal(sizes.isLarge('SELECT a'), false);
    sizes.record('SELECT a', 51);
    assert.equal(sizes.isLarge('SELECT a'), true);
    assert.equal(sizes.isLarge('SELECT b'), false, 'per statement text');
  });

  test('the average moves: a page statement that starts returning few rows becomes small', () => {
    const sizes = new ResultSizes();
    sizes.record('q', 51);
    let n = 0;
    while (sizes.isLarge('q')) {
      sizes.record('q', 1);
      n++;
      assert.ok(n < 100, 'still large after 100 one-row answers');
    }
    assert.ok(n > 1, 'one small answer does not flip a large statement');
    sizes.record('q', LARGE_RESULT_ROWS);
    assert.equal(sizes.isLarge('q'), false, `${LARGE_RESULT_ROWS} rows is not more than the bound`);
  });

  test('memory stays bounded however many distinct statements it sees', () => {
    const sizes = new ResultSizes();
    for (let i = 0; i < 5000; i++) sizes.record(`SELECT ${i}`, 100);
    assert.equal(sizes.isLarge('SELECT 4999'), true, 'the newest are kept');
    assert.equal(sizes.isLarge('SELECT 0'), false, 'the oldest were forgotten');
  });
});
