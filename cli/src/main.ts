#!/usr/bin/env node
// shiftops: deploy, roll back and inspect the services. Parses the command line, connects, runs
// one command, and turns its outcome (or error) into a documented exit code.
import { parseCommandLine, type Command } from './args.js';
import { helpText } from './help.js';
import { CliError, connect, explain, type Kube } from './kube/client.js';
import { Output } from './output.js';
import { ExitCode, exitCodeFor, outcomeForError, type Outcome } from './rollout/exit-codes.js';
import { deploy } from './commands/deploy.js';
import { rollback } from './commands/rollback.js';
import { history } from './commands/history.js';
import { status } from './commands/status.js';
import { promote } from './commands/promote.js';

function run(
  kube: Kube,
  out: Output,
  command: Exclude<Command, { name: 'help' | 'promote' }>,
): Promise<Outcome> {
  switch (command.name) {
    case 'deploy':
      return deploy(kube, out, command);
    case 'rollback':
      return rollback(kube, out, command);
    case 'history':
      return history(kube, out, command);
    case 'status':
      return status(kube, out, command);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    process.stderr.write(
      `shiftops: ${parsed.error}\nRun "shiftops ${parsed.topic ? `${parsed.topic} ` : ''}--help" for usage.\n`,
    );
    return ExitCode.Usage;
  }
  const { global, command } = parsed;
  if (command.name === 'help') {
    process.stdout.write(helpText(command.topic));
    return ExitCode.Ok;
  }
  const out = new Output({
    json: global.json,
    quiet: global.quiet,
    tty: Boolean(process.stdout.isTTY),
  });
  process.once('SIGINT', () => {
    out.fatal('interrupted: the rollout continues on the cluster and nothing was rolled back');
    process.exit(130);
  });
  let kube: Kube | undefined;
  try {
    // promote connects to each of its places itself.
    if (command.name === 'promote') return exitCodeFor(await promote(global, out, command));
    kube = connect(global);
    return exitCodeFor(await run(kube, out, command));
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    const code = exitCodeFor(outcomeForError(err.kind));
    const message = kube ? explain(err, kube) : err.message;
    if (global.json)
      out.result({ command: command.name, outcome: 'error', error: message, exitCode: code }, '');
    out.fatal(message);
    return code;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`shiftops: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(ExitCode.Unavailable);
  },
);
