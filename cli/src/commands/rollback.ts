// shiftops rollback <service> [--to-revision N]: kubectl rollout undo, then wait.
import type { Command } from '../args.js';
import type { Kube } from '../kube/client.js';
import type { Output } from '../output.js';
import type { Outcome } from '../rollout/exit-codes.js';
import { rollBack } from './common.js';
import { checkAccess } from './deploy.js';

type Rollback = Extract<Command, { name: 'rollback' }>;

export async function rollback(kube: Kube, out: Output, cmd: Rollback): Promise<Outcome> {
  await checkAccess(kube);
  const report = await rollBack(kube, out, cmd.service, cmd.toRevision, cmd, 'manual');
  const base = {
    command: 'rollback',
    service: cmd.service,
    namespace: kube.namespace,
    context: kube.context,
  };
  out.result({ ...base, ...report }, `${cmd.service}: ${report.message}`);
  switch (report.outcome) {
    case 'rolled-back':
    case 'skipped':
      return { kind: 'succeeded' };
    case 'refused':
      return { kind: 'refused' };
    case 'timeout':
      return { kind: 'timeout' };
    case 'failed':
      return { kind: 'rollback-failed' };
  }
}
