import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, exitCodeFor, exitCodeHelp, type Outcome } from '../src/rollout/exit-codes.js';

describe('exit codes', () => {
  const table: Array<[Outcome, number]> = [
    [{ kind: 'succeeded' }, 0],
    [{ kind: 'unchanged' }, 0],
    [{ kind: 'released-without-waiting' }, 0],
    [{ kind: 'failed', rolledBack: true }, 1],
    [{ kind: 'failed', rolledBack: false }, 1],
    [{ kind: 'rollback-failed' }, 2],
    [{ kind: 'timeout' }, 3],
    [{ kind: 'usage' }, 64],
    [{ kind: 'refused' }, 64],
    [{ kind: 'unreachable' }, 69],
    [{ kind: 'forbidden' }, 69],
    [{ kind: 'api-timeout' }, 75],
  ];
  for (const [outcome, code] of table) {
    it(`${JSON.stringify(outcome)} exits ${code}`, () => assert.equal(exitCodeFor(outcome), code));
  }

  it('documents every code exactly once', () => {
    assert.deepEqual(
      exitCodeHelp.map(([c]) => c).sort((a, b) => a - b),
      Object.values(ExitCode).sort((a, b) => a - b),
    );
  });
});
