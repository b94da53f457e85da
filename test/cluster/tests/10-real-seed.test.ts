// 10. The seed's scenario on real pods (cluster/seed on the real node, namespace 7shifts):
//     1.0.0 live and answering through its Service; `shiftops deploy users 1.1.0` succeeds; the
//     two broken kinds, each a real image built from the Dockerfile (1.2.0 never turns ready,
//     1.2.0-crash exits at start) fail and are rolled back with the reason, the pod's events and
//     its log lines printed; `shiftops rollback --to-revision N` restores 1.0.0. The same broken
//     releases done with plain kubectl (set image, rollout status --timeout, rollout undo) are
//     timed on the same pods (both at once: the never-ready one on users, the crash on shifts),
//     and both tools are printed side by side.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet } from '../lib/http.js';
import {
  explain,
  getDeployment,
  imageOf,
  isRolledOut,
  kubectl,
  log,
  parseJson,
  secs,
  shiftops,
  sleep,
  table,
  waitUntil,
} from '../lib/cluster.js';
import {
  IMAGE,
  SEED,
  apiHeaders,
  ensureSeed,
  isReady,
  nodeName,
  opsUrl,
  podsOf,
  realNodeOrSkip,
  serviceUrl,
} from '../lib/realnode.js';
import { defaultReadyTimeoutSeconds } from '../../../cli/src/rollout/verdict.js';

const SVC = 'users';
const KUBECTL_TIMEOUT = '3m';

/** GET a path of a Service's ClusterIP: status and parsed body. */
async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const a = await httpGet(url, apiHeaders());
  try {
    return { status: a.status, body: JSON.parse(a.body) };
  } catch {
    return { status: a.status, body: a.body };
  }
}

/** The version every ready pod reports on its operations port (the Service exposes only the API). */
async function servedVersion(svc: string): Promise<string> {
  const versions = new Set<string>();
  for (const pod of (await podsOf(svc)).filter(isReady)) {
    const r = await getJson(`${opsUrl(pod)}/version`);
    assert.equal(r.status, 200, JSON.stringify(r));
    versions.add((r.body as { version: string }).version);
  }
  assert.equal(versions.size, 1, `${svc}: ready pods report ${[...versions].join(', ') || 'none'}`);
  return [...versions][0]!;
}

async function recovered(image: string, startedAt: number, svc = SVC): Promise<number> {
  await waitUntil(
    `${SEED}/${svc} back on ${image} with all replicas ready`,
    async () => {
      const d = await getDeployment(SEED, svc);
      return imageOf(d) === image && isRolledOut(d);
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  return Date.now() - startedAt;
}

/** A broken release the plain kubectl way: set image, rollout status --timeout, rollout undo. */
async function kubectlRelease(svc: 'users' | 'shifts', tag: string) {
  const previous = imageOf(await getDeployment(SEED, svc))!;
  const started = Date.now();
  const kc = (args: string[], timeoutMs?: number) =>
    kubectl(['-n', SEED, ...args], timeoutMs ? { timeoutMs } : {});
  const set = await kc(['set', 'image', `deploy/${svc}`, `${svc}=${IMAGE(svc, tag)}`]);
  assert.equal(set.code, 0, explain(set));
  const status = await kc(
    ['rollout', 'status', `deploy/${svc}`, `--timeout=${KUBECTL_TIMEOUT}`],
    400_000,
  );
  const detectedMs = Date.now() - started;
  assert.notEqual(status.code, 0, `kubectl rollout status accepted ${svc} ${tag}`);
  const why = status.stderr.trim().split('\n').pop() ?? '';
  const undo = await kc(['rollout', 'undo', `deploy/${svc}`]);
  assert.equal(undo.code, 0, explain(undo));
  let reruns = 0;
  for (;;) {
    const back = await kc(['rollout', 'status', `deploy/${svc}`, '--timeout=3m'], 400_000);
    if (back.code === 0) break;
    // The stale ProgressDeadlineExceeded condition right after the undo: a person runs it again.
    assert.match(back.stderr, /exceeded its progress deadline/, explain(back));
    assert.ok(++reruns <= 5, explain(back));
    await sleep(1000);
  }
  const recoveredMs = await recovered(previous, started, svc);
  const deadlineS = (await getDeployment(SEED, svc)).spec?.progressDeadlineSeconds ?? 600;
  if (reruns)
    log(
      `kubectl, ${svc} ${tag}: rollout status after undo failed ${reruns}x on the stale condition`,
    );
  return { svc, why, detectedMs, recoveredMs, deadlineS };
}

interface Row {
  release: string;
  tool: string;
  verdict: string;
  detectedMs: number;
  recoveredMs: number;
}
const rows: Row[] = [];

const broken = [
  { kind: 'never ready', tag: '1.2.0', reason: /NeverReady/ },
  { kind: 'crash at start', tag: '1.2.0-crash', reason: /CrashLoopBackOff|ContainerRestarted/ },
];

describe('10. the seed scenario on real pods', realNodeOrSkip(), () => {
  before(ensureSeed);

  after(() => {
    if (rows.length === 0) return;
    log('real pods: time from starting the release to its verdict and to "all replicas ready":');
    log(
      table([
        ['release', 'tool', 'verdict', 'verdict after', 'all ready after'],
        ...rows.map((r) => [r.release, r.tool, r.verdict, secs(r.detectedMs), secs(r.recoveredMs)]),
      ]),
    );
  });

  it('1.0.0 is live: users and shifts run on the real node and answer through their Services', async () => {
    for (const svc of ['users', 'shifts'] as const) {
      const d = await getDeployment(SEED, svc);
      assert.equal(imageOf(d), IMAGE(svc, '1.0.0'));
      const pods = (await podsOf(svc)).filter(isReady);
      assert.ok(pods.length >= 1, `${svc}: no ready pod`);
      for (const p of pods) {
        assert.equal(p.spec?.nodeName, nodeName(), `${p.metadata?.name} is not on the real node`);
        // A real container: containerd reports its image digest and a start time.
        const c = p.status?.containerStatuses?.[0];
        assert.match(c?.imageID ?? '', /sha256:[0-9a-f]{64}/);
        assert.ok(c?.state?.running?.startedAt, JSON.stringify(c?.state));
      }
      assert.equal(await servedVersion(svc), '1.0.0');
      const list = await getJson(`${await serviceUrl(svc)}/v1/${svc}?limit=2`);
      assert.equal(list.status, 200, JSON.stringify(list));
    }
    const pg = await podsOf('postgres');
    assert.ok(pg.some(isReady), 'PostgreSQL is not ready');
    assert.equal(pg[0]!.spec?.nodeName, nodeName());
  });

  it('shiftops deploy users 1.1.0 succeeds: all replicas ready on 1.1.0, served through the Service', async () => {
    const r = await shiftops(['deploy', SVC, '1.1.0', '--json'], { namespace: SEED });
    assert.equal(r.code, 0, explain(r, 'shiftops deploy'));
    assert.equal(parseJson(r).outcome, 'succeeded');
    const d = await getDeployment(SEED, SVC);
    assert.equal(imageOf(d), IMAGE(SVC, '1.1.0'));
    assert.ok(isRolledOut(d));
    assert.equal(await servedVersion(SVC), '1.1.0');
    log(`good release users 1.1.0: deploy -> all ready in ${secs(r.ms)}`);
    rows.push({
      release: '1.1.0 (good)',
      tool: 'shiftops deploy',
      verdict: 'exit 0, succeeded',
      detectedMs: r.ms,
      recoveredMs: r.ms,
    });
  });

  for (const k of broken) {
    it(`${k.tag} (${k.kind}): shiftops deploy fails, prints reason, events and logs, rolls back`, async () => {
      const previous = imageOf(await getDeployment(SEED, SVC))!;
      const readyTimeoutS = defaultReadyTimeoutSeconds(await getDeployment(SEED, SVC));
      const started = Date.now();
      const r = await shiftops(['deploy', SVC, k.tag], { namespace: SEED, mark: /rolling back/ });
      const recoveredMs = await recovered(previous, started);
      assert.equal(r.code, 1, explain(r, 'shiftops deploy'));
      const output = r.stdout + r.stderr;
      const reason = /FAILED \((\w+)\)/.exec(output)?.[1] ?? '';
      assert.match(reason, k.reason, explain(r));
      assert.match(r.stdout, /rolled back to revision \d+/, explain(r));
      // The failing pod's own diagnosis, from the real kubelet: events and real log lines.
      assert.match(output, /--- pod \S+: warning events ---/, explain(r));
      const logs = /--- pod \S+ container \S+: last log lines ---\n((?: {2}.*\n?)+)/.exec(output);
      assert.ok(logs, `no log lines in the output:\n${output}`);
      assert.doesNotMatch(logs[1]!, /logs unavailable|\(no output\)/, logs[1]);
      assert.equal(await servedVersion(SVC), previous.split(':').pop());
      const detected = r.markedMs!;
      assert.ok(detected !== undefined, 'no "rolling back" line');
      if (k.kind === 'never ready')
        assert.ok(
          detected >= readyTimeoutS * 1000 && detected <= (readyTimeoutS + 15) * 1000,
          `never-ready caught after ${secs(detected)}, budget --ready-timeout ${readyTimeoutS} s`,
        );
      else
        assert.ok(
          detected < readyTimeoutS * 1000,
          `crash caught after ${secs(detected)}, not before --ready-timeout ${readyTimeoutS} s`,
        );
      log(`shiftops, ${k.tag}: ${reason}; output:\n${output.trim()}`);
      rows.push({
        release: `${k.tag} (${k.kind})`,
        tool: 'shiftops deploy',
        verdict: `exit 1, ${reason}`,
        detectedMs: detected,
        recoveredMs,
      });
    });
  }

  // kubectl waits for progressDeadlineSeconds whatever the pods do, so both kinds run at once: the
  // never-ready release on users, the crash on shifts (same Deployment settings, same images).
  it(`plain kubectl set image + rollout status --timeout=${KUBECTL_TIMEOUT} + rollout undo: 1.2.0 on users and 1.2.0-crash on shifts at once`, async () => {
    const runs = await Promise.all(
      broken.map((k, i) => kubectlRelease(i === 0 ? 'users' : 'shifts', k.tag)),
    );
    runs.forEach((run, i) => {
      const k = broken[i]!;
      assert.ok(
        run.detectedMs >= run.deadlineS * 1000 * 0.9,
        `kubectl detected ${k.tag} on ${run.svc} after ${secs(run.detectedMs)}, before the progress deadline ${run.deadlineS} s?`,
      );
      rows.push({
        release: `${k.tag} (${k.kind})${run.svc === SVC ? '' : `, on ${run.svc}`}`,
        tool: 'kubectl',
        verdict: run.why.replace(/^error: /, '').slice(0, 60),
        detectedMs: run.detectedMs,
        recoveredMs: run.recoveredMs,
      });
    });
  });

  it('shiftops rollback users --to-revision N restores 1.0.0, as kubectl rollout history shows', async () => {
    const h = await shiftops(['history', SVC, '--json'], { namespace: SEED });
    assert.equal(h.code, 0, explain(h));
    const revisions = parseJson<{ revisions: Array<{ revision: number; image: string }> }>(
      h,
    ).revisions;
    const first = revisions.find((x) => x.image === IMAGE(SVC, '1.0.0'));
    assert.ok(first, JSON.stringify(revisions));
    const r = await shiftops(['rollback', SVC, '--to-revision', String(first.revision)], {
      namespace: SEED,
    });
    assert.equal(r.code, 0, explain(r));
    const d = await getDeployment(SEED, SVC);
    assert.equal(imageOf(d), IMAGE(SVC, '1.0.0'));
    assert.ok(isRolledOut(d));
    assert.equal(await servedVersion(SVC), '1.0.0');
    const hist = await kubectl(['-n', SEED, 'rollout', 'history', `deploy/${SVC}`]);
    assert.equal(hist.code, 0, explain(hist));
    // The rolled-back revision moves to the top (kubectl's numbering): 1.0.0 is the newest now.
    const lastRevision = Math.max(
      ...hist.stdout
        .split('\n')
        .map((l) => Number(/^(\d+)\s/.exec(l)?.[1] ?? NaN))
        .filter((n) => !Number.isNaN(n)),
    );
    assert.ok(lastRevision > first.revision, hist.stdout);
    log(`rollback --to-revision ${first.revision} (1.0.0) in ${secs(r.ms)}`);
  });
});
