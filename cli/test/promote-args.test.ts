import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../src/args.js';
import { helpText } from '../src/help.js';

describe('promote and --request-timeout on the command line', () => {
  it('parses a wave: --to in order, deploy options for every target', () => {
    const r = parseCommandLine([
      'promote',
      'users',
      '--from',
      'shiftops-staging@staging',
      '--to',
      'prod-eu, prod-us',
      '--timeout',
      '2m',
      '--no-rollback',
      '--request-timeout',
      '10s',
    ]);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.global.requestTimeoutSeconds, 10);
    assert.equal(r.command.name, 'promote');
    if (r.command.name !== 'promote') return;
    assert.equal(r.command.from, 'shiftops-staging@staging');
    assert.deepEqual(r.command.to, ['prod-eu', 'prod-us']);
    assert.equal(r.command.deploy.timeoutSeconds, 120);
    assert.equal(r.command.deploy.rollback, false);
    assert.equal(r.command.deploy.wait, true);
    assert.equal(r.command.deploy.analysis.mode, 'auto');
  });

  const bad: Array<[string[], RegExp]> = [
    [['promote', 'users', '--to', 'prod'], /missing --from/],
    [['promote', 'users', '--from', 'staging'], /missing --to/],
    [['promote', 'users', '--from', 'a', '--to', 'b,,c'], /empty entry/],
    [['promote', 'users', '--from', 'a', '--to', 'b,a'], /"a" appears twice/],
    [['promote', 'users', '--from', 'a', '--to', 'b', '--context', 'x'], /not --context/],
    [
      ['promote', 'users', '--from', 'a', '--to', 'b', '--wait=false'],
      /--no-wait is not an option of "promote"/,
    ],
    [['promote', 'nope', '--from', 'a', '--to', 'b'], /unknown service "nope"/],
    [['status', '--request-timeout', '0'], /--request-timeout: "0" is not a duration/],
    [['status', '--request-timeout', 'soon'], /--request-timeout/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      const r = parseCommandLine(argv);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, message);
    });
  }

  it('documents promote and the new exit code in --help', () => {
    assert.match(helpText('promote'), /--from <place> --to <place>\[,<place>\.\.\.\]/);
    assert.match(helpText(), /75 +the API server did not answer within --request-timeout/);
    assert.match(helpText(), /--request-timeout D/);
  });
});
