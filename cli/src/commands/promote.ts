// shiftops promote <service> --from <place> --to <place>[,<place>...]: take exactly the image
// digest running and healthy in the source (promote/source.ts decides) and deploy it to each
// target in order with `deploy` itself (same verdict, analysis and automatic rollback); a wave
// stops at the first target that does not succeed. One result per target; one JSON document.
import type { Command, GlobalOptions } from '../args.js';
import {
  PROMOTE_SOURCE_PERMISSIONS,
  describePermission,
  missingPermissions,
} from '../kube/access.js';
import { CliError, connect, explain, type Kube } from '../kube/client.js';
import { Output } from '../output.js';
import { resolvePlace, type Place } from '../promote/places.js';
import { selectSource, type SourceDecision } from '../promote/source.js';
import { exitCodeFor, outcomeForError, type Outcome } from '../rollout/exit-codes.js';
import { getDeployment, listOwnedReplicaSets, listPods } from './common.js';
import { deploy } from './deploy.js';

type Promote = Extract<Command, { name: 'promote' }>;

/** Passes deploy's human output through, and keeps its result document for the wave report. */
class RecordingOutput extends Output {
  last: object | undefined;
  override result(json: object, human: string): void {
    this.last = json;
    if (!this.mode.json) super.result(json, human);
  }
}

interface TargetReport {
  place: string;
  context: string;
  namespace: string;
  outcome: string;
  exitCode: number;
  deploy?: object;
  error?: string;
}

function where(kube: Kube): { context: string; namespace: string } {
  return { context: kube.context, namespace: kube.namespace };
}

async function readSource(kube: Kube, service: string): Promise<SourceDecision> {
  const missing = await missingPermissions(kube, PROMOTE_SOURCE_PERMISSIONS);
  if (missing.length > 0)
    throw new CliError(
      `missing permission(s) in the source:\n${missing.map((p) => `  - ${describePermission(p, kube.namespace)}`).join('\n')}`,
      'forbidden',
    );
  const d = await getDeployment(kube, service);
  const [replicaSets, pods] = await Promise.all([listOwnedReplicaSets(kube, d), listPods(kube, d)]);
  return selectSource(service, d, replicaSets, pods);
}

export async function promote(global: GlobalOptions, out: Output, cmd: Promote): Promise<Outcome> {
  const base = connect(global);
  const contexts = base.kc.getContexts().map((c) => c.name);
  const places: Place[] = [];
  for (const spec of [cmd.from, ...cmd.to]) {
    const r = resolvePlace(spec, contexts, base.context);
    if (!r.ok) throw new CliError(r.error, 'usage');
    places.push(r.place);
  }
  const kubes = places.map((p) =>
    connect({ ...global, context: p.context, ...(p.namespace ? { namespace: p.namespace } : {}) }),
  );
  const seen = new Map<string, string>();
  kubes.forEach((k, i) => {
    const key = `${k.server} ${k.namespace}`;
    const other = seen.get(key);
    if (other !== undefined)
      throw new CliError(
        `"${places[i]!.spec}" and "${other}" are the same place (${k.server}, namespace ${k.namespace})`,
        'usage',
      );
    seen.set(key, places[i]!.spec);
  });
  const [sourceKube, ...targetKubes] = kubes as [Kube, ...Kube[]];
  const doc = { command: 'promote', service: cmd.service };
  const source = { place: cmd.from, ...where(sourceKube) };

  let decision: SourceDecision;
  try {
    decision = await readSource(sourceKube, cmd.service);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    const message = `source ${cmd.from}: ${explain(err, sourceKube)}`;
    const outcome = outcomeForError(err.kind);
    out.result(
      { ...doc, outcome: 'error', source, error: message, exitCode: exitCodeFor(outcome) },
      '',
    );
    out.fatal(message);
    return outcome;
  }
  if (!decision.ok) {
    out.result(
      {
        ...doc,
        outcome: 'refused',
        source: { ...source, refused: decision.reason, message: decision.message },
        targets: [],
      },
      `refusing to promote ${cmd.service} from ${cmd.from} (context ${sourceKube.context}, namespace ${sourceKube.namespace}): ${decision.message}. Nothing was changed; promote once the source is settled and healthy ("shiftops status ${cmd.service} --context ${sourceKube.context} -n ${sourceKube.namespace}")`,
    );
    return { kind: 'refused' };
  }
  const { ok: _ok, ...picked } = decision;
  out.info(
    `promoting ${cmd.service} ${decision.image} (running in ${cmd.from} as ${decision.specImage}, revision ${decision.revision ?? '?'}, ${decision.replicas} Ready${decision.analysis ? ', analysis passed' : ''}) to ${cmd.to.join(' -> ')}`,
  );

  const targets: TargetReport[] = [];
  let final: Outcome = { kind: 'succeeded' };
  for (const [i, kube] of targetKubes.entries()) {
    const place = cmd.to[i]!;
    if (exitCodeFor(final) !== 0) {
      targets.push({ place, ...where(kube), outcome: 'not-attempted', exitCode: 0 });
      continue;
    }
    out.info(
      `[${i + 1}/${targetKubes.length}] ${place} (context ${kube.context}, namespace ${kube.namespace})`,
    );
    const rec = new RecordingOutput(out.mode);
    try {
      final = await deploy(kube, rec, {
        name: 'deploy',
        service: cmd.service,
        image: decision.image,
        ...cmd.deploy,
      });
      const result = rec.last as { outcome?: string } | undefined;
      targets.push({
        place,
        ...where(kube),
        outcome: result?.outcome ?? final.kind,
        exitCode: exitCodeFor(final),
        ...(rec.last ? { deploy: rec.last } : {}),
      });
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      final = outcomeForError(err.kind);
      const message = explain(err, kube);
      out.error(`${place}: ${message}`);
      targets.push({
        place,
        ...where(kube),
        outcome: 'error',
        exitCode: exitCodeFor(final),
        error: message,
      });
    }
  }
  const failed = targets.find((t) => t.exitCode !== 0);
  const summary = targets
    .map((t) => `  ${t.place.padEnd(24)} ${t.outcome}${t.exitCode ? ` (exit ${t.exitCode})` : ''}`)
    .join('\n');
  out.result(
    {
      ...doc,
      outcome: failed ? 'failed' : 'promoted',
      image: decision.image,
      source: { ...source, ...picked },
      targets,
      ...(failed ? { failedAt: failed.place } : {}),
      exitCode: exitCodeFor(final),
    },
    `${failed ? `promotion of ${cmd.service} stopped at ${failed.place}` : `${cmd.service} ${decision.image} promoted to ${cmd.to.join(', ')}`}:\n${summary}`,
  );
  return final;
}
