import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countRequests, parseAuditLog } from '../audit.js';

const event = (
  user: string,
  verb: string,
  resource: string,
  stage = 'ResponseComplete',
  sub?: string,
) =>
  JSON.stringify({
    kind: 'Event',
    stage,
    verb,
    user: { username: user, groups: ['shiftops:developers'] },
    objectRef: { resource, ...(sub ? { subresource: sub } : {}) },
    responseStatus: { code: 200 },
  });

describe('audit log parsing', () => {
  const log = [
    event('a', 'create', 'selfsubjectaccessreviews'),
    event('a', 'get', 'deployments'),
    event('a', 'watch', 'pods', 'ResponseStarted'), // not complete: not counted
    event('a', 'watch', 'pods'),
    event('a', 'watch', 'pods'),
    event('b', 'list', 'pods'),
    event('a', 'get', 'pods', 'Panic', 'log'),
    '{"kind":"Event","sta', // torn last line
  ].join('\n');

  const cases: Array<{
    user: string;
    total: number;
    byVerb: Record<string, number>;
    byVerbAndResource: Record<string, number>;
  }> = [
    {
      user: 'a',
      total: 5,
      byVerb: { create: 1, get: 2, watch: 2 },
      byVerbAndResource: {
        'create selfsubjectaccessreviews': 1,
        'get deployments': 1,
        'get pods/log': 1,
        'watch pods': 2,
      },
    },
    { user: 'b', total: 1, byVerb: { list: 1 }, byVerbAndResource: { 'list pods': 1 } },
    { user: 'nobody', total: 0, byVerb: {}, byVerbAndResource: {} },
  ];
  for (const c of cases) {
    it(`counts the completed requests of ${c.user}`, () => {
      assert.deepEqual(countRequests(parseAuditLog(log), c.user), {
        total: c.total,
        byVerb: c.byVerb,
        byVerbAndResource: c.byVerbAndResource,
      });
    });
  }

  it('refuses a bad line that is not the last one', () => {
    assert.throws(
      () => parseAuditLog(`not json\n${event('a', 'get', 'pods')}`),
      /line 1 is not JSON/,
    );
  });

  it('an event without objectRef counts under "-"', () => {
    const text = JSON.stringify({
      stage: 'ResponseComplete',
      verb: 'get',
      user: { username: 'a' },
    });
    assert.deepEqual(countRequests(parseAuditLog(text), 'a').byVerbAndResource, { 'get -': 1 });
  });
});
