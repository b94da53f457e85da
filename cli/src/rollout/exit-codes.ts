// Exit codes are part of the CLI's contract: scripts and CI branch on them, so each one means
// exactly one thing. 64 and 69 come from sysexits.h (EX_USAGE, EX_UNAVAILABLE).
export const ExitCode = {
  /** The release (or rollback) is live and healthy. */
  Ok: 0,
  /** The release failed; it was rolled back to the previous revision (or left, with --no-rollback). */
  ReleaseFailed: 1,
  /** The release failed and the rollback failed too, or a manual rollback failed: page someone. */
  RollbackFailed: 2,
  /** --timeout elapsed before the rollout gave a verdict; nothing was rolled back. */
  Timeout: 3,
  /** Bad arguments, or refused before changing anything (unknown service or revision, paused). */
  Usage: 64,
  /** Cluster unreachable, or the caller lacks a permission the command needs. */
  Unavailable: 69,
  /** The API server did not answer within --request-timeout (sysexits EX_TEMPFAIL). */
  ApiTimeout: 75,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What a command ended with; main() turns it into an exit code. */
export type Outcome =
  | { kind: 'succeeded' }
  | { kind: 'unchanged' }
  | { kind: 'released-without-waiting' }
  | { kind: 'failed'; rolledBack: boolean }
  | { kind: 'rollback-failed' }
  | { kind: 'timeout' }
  | { kind: 'usage' }
  | { kind: 'refused' }
  | { kind: 'unreachable' }
  | { kind: 'forbidden' }
  | { kind: 'api-timeout' };

export function exitCodeFor(outcome: Outcome): ExitCode {
  switch (outcome.kind) {
    case 'succeeded':
    case 'unchanged':
    case 'released-without-waiting':
      return ExitCode.Ok;
    case 'failed':
      return ExitCode.ReleaseFailed;
    case 'rollback-failed':
      return ExitCode.RollbackFailed;
    case 'timeout':
      return ExitCode.Timeout;
    case 'usage':
    case 'refused':
      return ExitCode.Usage;
    case 'unreachable':
    case 'forbidden':
      return ExitCode.Unavailable;
    case 'api-timeout':
      return ExitCode.ApiTimeout;
  }
}

/** The table printed by --help and docs/cli.md, kept next to the codes so they cannot drift. */
export const exitCodeHelp: ReadonlyArray<readonly [ExitCode, string]> = [
  [ExitCode.Ok, 'success (or nothing to do)'],
  [ExitCode.ReleaseFailed, 'release failed and was rolled back (or left as is with --no-rollback)'],
  [
    ExitCode.RollbackFailed,
    'release failed and the rollback failed too, or rollback failed: page someone',
  ],
  [ExitCode.Timeout, '--timeout elapsed with no verdict; nothing was rolled back'],
  [ExitCode.Usage, 'usage error, or refused before any change (unknown service/revision, paused)'],
  [ExitCode.Unavailable, 'cluster unreachable, or a permission is missing (it is named)'],
  [
    ExitCode.ApiTimeout,
    'the API server did not answer within --request-timeout (the message says if anything may have changed)',
  ],
];

/** What a CliError of each kind means for the exit code (main and promote). */
export function outcomeForError(
  kind: 'usage' | 'refused' | 'unreachable' | 'forbidden' | 'conflict' | 'not-found' | 'timeout',
): Outcome {
  switch (kind) {
    case 'usage':
      return { kind: 'usage' };
    case 'refused':
    case 'conflict':
    case 'not-found':
      return { kind: 'refused' };
    case 'forbidden':
      return { kind: 'forbidden' };
    case 'unreachable':
      return { kind: 'unreachable' };
    case 'timeout':
      return { kind: 'api-timeout' };
  }
}
