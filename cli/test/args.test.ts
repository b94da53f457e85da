import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeBooleans,
  parseCommandLine,
  parseDuration,
  parseFraction,
  type AnalysisOptions,
} from '../src/args.js';
import { DEFAULT_THRESHOLDS } from '../src/analysis/decide.js';

const DEFAULT_ANALYSIS: AnalysisOptions = {
  mode: 'auto',
  windowSeconds: 60,
  thresholds: DEFAULT_THRESHOLDS,
  prometheusService: 'prometheus:9090',
};

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
        analysis: DEFAULT_ANALYSIS,
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
      analysis: DEFAULT_ANALYSIS,
      wait: false,
      timeoutSeconds: 120,
      readyTimeoutSeconds: 45,
    });
  });

  it('parses the analysis flags', () => {
    const r = parseCommandLine([
      'deploy',
      'users',
      '1.2.0',
      '--analysis=required',
      '--analysis-window',
      '2m',
      '--max-error-increase',
      '0.5%',
      '--max-p95-ratio',
      '1.3',
      '--min-requests',
      '300',
      '--prometheus-service',
      'monitoring/prometheus-operated:9090',
    ]);
    assert.ok(r.ok && r.command.name === 'deploy');
    assert.deepEqual(r.command.analysis, {
      mode: 'required',
      windowSeconds: 120,
      thresholds: {
        ...DEFAULT_THRESHOLDS,
        maxErrorIncrease: 0.005,
        maxP95Ratio: 1.3,
        minRequests: 300,
      },
      prometheusService: 'prometheus-operated:9090',
      prometheusNamespace: 'monitoring',
    });
    const url = parseCommandLine([
      'deploy',
      'users',
      '1',
      '--analysis=off',
      '--prometheus-url',
      'http://127.0.0.1:9090',
    ]);
    assert.ok(url.ok && url.command.name === 'deploy');
    assert.equal(url.command.analysis.mode, 'off');
    assert.equal(url.command.analysis.prometheusUrl, 'http://127.0.0.1:9090');
  });

  it('reads shares as percent or fraction', () => {
    assert.equal(parseFraction('1%'), 0.01);
    assert.equal(parseFraction('0.02'), 0.02);
    assert.equal(parseFraction('150%'), undefined);
    assert.equal(parseFraction('-1%'), undefined);
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
    [
      ['deploy', 'users', '1', '--analysis=maybe'],
      /--analysis: "maybe" is not one of auto, required, off/,
    ],
    [
      ['deploy', 'users', '1', '--analysis-window', '10s'],
      /--analysis-window: "10s" is not a duration of at least 30s/,
    ],
    [
      ['deploy', 'users', '1', '--max-error-increase', 'lots'],
      /--max-error-increase: "lots" is not a share like 1% or 0.01/,
    ],
    [
      ['deploy', 'users', '1', '--max-p95-ratio', '0.9'],
      /--max-p95-ratio: "0.9" is not a ratio above 1/,
    ],
    [['deploy', 'users', '1', '--min-requests', '0'], /--min-requests: "0" is not a whole number/],
    [
      ['deploy', 'users', '1', '--prometheus-url', 'ftp://x'],
      /--prometheus-url: "ftp:\/\/x" is not an http\(s\) URL/,
    ],
    [
      ['deploy', 'users', '1', '--prometheus-service', 'prometheus'],
      /--prometheus-service: "prometheus" is not \[namespace\/\]name:port/,
    ],
    [
      [
        'deploy',
        'users',
        '1',
        '--prometheus-url',
        'http://p:9090',
        '--prometheus-service',
        'p:9090',
      ],
      /alternatives: give one/,
    ],
    [['rollback', 'users', '--analysis=off'], /--analysis is not an option of "rollback"/],
    [
      ['deploy', 'users', '1', '--analysis=required', '--wait=false'],
      /--analysis=required needs to watch/,
    ],
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
