import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeBooleans, parseCommandLine, parseDuration } from '../src/args.js';

describe('command-line parsing', () => {
  it('parses a deploy with defaults: wait, roll back, 300 s timeout', () => {
    const r = parseCommandLine(['deploy', 'users', '1.2.0']);
    assert.deepEqual(r, {
      ok: true,
      global: { json: false, quiet: false },
      command: {
        name: 'deploy',
        service: 'users',
        image: '1.2.0',
        rollback: true,
        wait: true,
        timeoutSeconds: 300,
      },
    });
  });

  it("accepts kubectl's --wait=false and --no-rollback, and global flags anywhere", () => {
    const r = parseCommandLine([
      '--context',
      'kind',
      'deploy',
      'shifts',
      'x/y:1',
      '--wait=false',
      '--no-rollback',
      '-n',
      'staging',
      '--json',
      '--timeout',
      '2m',
      '--ready-timeout',
      '45s',
    ]);
    assert.ok(r.ok);
    assert.deepEqual(r.global, { context: 'kind', namespace: 'staging', json: true, quiet: false });
    assert.deepEqual(r.command, {
      name: 'deploy',
      service: 'shifts',
      image: 'x/y:1',
      rollback: false,
      wait: false,
      timeoutSeconds: 120,
      readyTimeoutSeconds: 45,
    });
  });

  it('parses rollback --to-revision', () => {
    const r = parseCommandLine(['rollback', 'users', '--to-revision', '4']);
    assert.ok(r.ok);
    assert.equal(r.command.name === 'rollback' && r.command.toRevision, 4);
  });

  it('defaults status to every service', () => {
    const r = parseCommandLine(['status']);
    assert.deepEqual(r.ok && r.command, { name: 'status', services: ['users', 'shifts'] });
  });

  it('shows help for a command', () => {
    assert.deepEqual(
      parseCommandLine(['deploy', '--help']).ok &&
        (parseCommandLine(['deploy', '--help']) as { command: unknown }).command,
      { name: 'help', topic: 'deploy' },
    );
    assert.deepEqual((parseCommandLine([]) as { command: unknown }).command, { name: 'help' });
  });

  const usageErrors: Array<[string[], RegExp]> = [
    [['deploy', 'user', '1.0'], /unknown service "user" \(known: users, shifts\)/],
    [['deploy', 'users'], /missing <image-or-tag>/],
    [['deploy', 'users', '1', 'extra'], /unexpected argument "extra"/],
    [['history', 'users', '--to-revision', '2'], /--to-revision is not an option of "history"/],
    [['rollback', 'users', '--to-revision', '0'], /not a revision number/],
    [['rollback', 'users', '--to-revision', 'two'], /not a revision number/],
    [['deploy', 'users', '1', '--timeout', 'soon'], /--timeout: "soon" is not a duration/],
    [['deploy', 'users', '1', '--wait', '--wait=false'], /contradictory/],
    [['deploy', 'users', '1', '--bogus'], /Unknown option '--bogus'/],
    [['launch', 'users'], /unknown command "launch"/],
  ];
  for (const [argv, message] of usageErrors) {
    it(`rejects: shiftops ${argv.join(' ')}`, () => {
      const r = parseCommandLine(argv);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, message);
    });
  }
});

describe('durations', () => {
  const cases: Array<[string, number | undefined]> = [
    ['300', 300],
    ['90s', 90],
    ['5m', 300],
    ['1m30s', 90],
    ['1h', 3600],
    ['', undefined],
    ['5 m', undefined],
    ['-1', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`"${input}" is ${expected ?? 'invalid'}`, () =>
      assert.equal(parseDuration(input), expected));
  }
});

describe('boolean flag normalisation', () => {
  it('rewrites --x=false to --no-x and --x=true to --x, leaving the rest', () => {
    assert.deepEqual(
      normalizeBooleans(
        ['--wait=false', '--rollback=true', '--json', 'wait=false'],
        ['wait', 'rollback'],
      ),
      ['--no-wait', '--rollback', '--json', 'wait=false'],
    );
  });
});
