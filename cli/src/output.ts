// Where output goes. People get a live progress line on a TTY and one line per change otherwise;
// machines get exactly one JSON document on stdout (--json); --quiet keeps only results and errors.
import { formatProgress, progressKey, type Progress } from './rollout/format.js';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
  tty: boolean;
}

interface Stream {
  write(s: string): unknown;
}

export class Output {
  private liveLine = false;
  private lastKey = '';

  constructor(
    readonly mode: OutputMode,
    private readonly out: Stream = process.stdout,
    private readonly err: Stream = process.stderr,
  ) {}

  private get human(): boolean {
    return !this.mode.json && !this.mode.quiet;
  }

  private endLive(): void {
    if (this.liveLine) {
      this.out.write('\n');
      this.liveLine = false;
    }
  }

  info(line: string): void {
    if (!this.human) return;
    this.endLive();
    this.out.write(`${line}\n`);
  }

  progress(p: Progress): void {
    if (!this.human) return;
    if (this.mode.tty) {
      // Rewrite one line in place: \r to column 0, ESC[2K clears what the last one left.
      this.out.write(`\r\x1b[2K${formatProgress(p)}`);
      this.liveLine = true;
      return;
    }
    const key = `${progressKey(p)}|${p.warning ?? ''}`;
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.out.write(`${formatProgress(p)}\n`);
    }
  }

  /** Problems and diagnostics: stderr, shown even with --quiet (not with --json: they are in the result). */
  error(text: string): void {
    this.endLive();
    if (this.mode.json) return;
    this.err.write(`${text}\n`);
  }

  /** Errors that end the command before any result exists: always on stderr. */
  fatal(text: string): void {
    this.endLive();
    this.err.write(`shiftops: ${text}\n`);
  }

  /** The final word: the JSON document, or the human summary (printed even with --quiet). */
  result(json: object, human: string): void {
    this.endLive();
    if (this.mode.json) this.out.write(`${JSON.stringify(json, null, 2)}\n`);
    else if (human) this.out.write(`${human}\n`);
  }
}
