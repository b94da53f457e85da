// Release analysis on kwok pods, shared by the files of test/cluster/long/release-analysis-*:
// a namespace of its own (lib/sandbox.ts) with 4 old `users` pods that serve what their image
// says (lib/releases.ts: per-pod seeded noise), `shiftops deploy` as dev-alice against the test
// cluster's Prometheus, and a table of every deploy's numbers printed after the file.
// The good-release files are split so each stays well inside the runner's per-file timeout; each
// reports its counts as a test diagnostic that test/cluster/run.sh adds up over the run.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { explain, log, parseJson, shiftops, sleep, table, type Run } from './cluster.js';
import { LATENCY } from './load.js';
import { PROMETHEUS_URL as PROMETHEUS } from './prometheus.js';
import { BASE, ReleaseEmulator } from './releases.js';
import {
  IMAGE_REPO,
  createSandbox,
  deleteSandbox,
  liveImage,
  startUsers,
  usersDeployment,
} from './sandbox.js';

export const REPLICAS = 4;
export { PROMETHEUS };
/** Good releases per file (test/cluster/long/release-analysis-good-N.test.ts). */
export const GOOD_RUNS_PER_FILE = Number(process.env.SHIFTOPS_ANALYSIS_GOOD_RUNS ?? 5);
/** The diagnostic line run.sh sums: keep the two in step. */
export const goodReport = (runs: number, falseRollbacks: number) =>
  `release-analysis good releases: ${runs}, false rollbacks: ${falseRollbacks}`;

interface Group {
  pods: number;
  requests: number;
  errors: number;
  errorRate: number;
  p95: number | null;
}
export interface DeployResult {
  outcome: string;
  failure?: { reason: string; message: string };
  analysis?: {
    result: string;
    reason?: string;
    decidedAfterSeconds?: number;
    new?: Group;
    old?: Group;
  };
  durationMs: number;
}

const pct = (x: number | undefined) => (x === undefined ? '?' : `${(x * 100).toFixed(2)}%`);
const msOf = (x: number | null | undefined) => (x == null ? '?' : `${Math.round(x * 1000)}ms`);

export interface AnalysisNamespace {
  /** set in before() */
  ns: string;
  emulator: ReleaseEmulator;
  /** `shiftops deploy users <args>` as dev-alice in the namespace */
  deploy(...args: string[]): Promise<Run>;
  /** `shiftops <args>` as dev-alice in the namespace */
  cli(...args: string[]): Promise<Run>;
  liveImage(): Promise<string | undefined>;
  /** adds a deploy's numbers to the table printed after the file */
  record(name: string, r: Run, result: DeployResult): void;
}

/**
 * Registers before/after hooks (call inside describe): the namespace, 4 pods of 1.0.0 with the
 * emulator's noise drawn from `seed` (each file its own, so the files' releases differ), and a
 * Prometheus that has scraped them a few times; afterwards the table and the namespace's removal.
 */
export function analysisNamespace(label: string, seed: number): AnalysisNamespace {
  let dev = '';
  const rows: string[][] = [
    [
      'release',
      'exit',
      'analysis',
      'after',
      'new req',
      'new err',
      'new p95',
      'old pods',
      'old req',
      'old err',
      'old p95',
      'total',
    ],
  ];
  const ctx: AnalysisNamespace = {
    ns: '',
    emulator: new ReleaseEmulator('', 'users', seed),
    cli: (...args) => shiftops(args, { kubeconfig: dev, namespace: ctx.ns }),
    deploy: (...args) => ctx.cli('deploy', 'users', ...args),
    liveImage: () => liveImage(ctx.ns),
    record(name, r, result) {
      const a = result.analysis;
      rows.push([
        name,
        String(r.code),
        a?.result ?? '-',
        a?.decidedAfterSeconds !== undefined ? `${a.decidedAfterSeconds}s` : '-',
        String(a?.new?.requests ?? '-'),
        pct(a?.new?.errorRate),
        msOf(a?.new?.p95),
        String(a?.old?.pods ?? '-'),
        String(a?.old?.requests ?? '-'),
        pct(a?.old?.errorRate),
        msOf(a?.old?.p95),
        `${(result.durationMs / 1000).toFixed(1)}s`,
      ]);
    },
  };

  before(async () => {
    ctx.ns = await createSandbox(`shiftops-analysis-${label}`);
    ctx.emulator = new ReleaseEmulator(ctx.ns, 'users', seed);
    ctx.emulator.start();
    dev = await startUsers(
      ctx.ns,
      usersDeployment('1.0.0', {
        replicas: REPLICAS,
        progressDeadlineSeconds: 120,
        minReadySeconds: 2,
        revisionHistoryLimit: 30,
        // Without the analysis hold, two new pods would start at once.
        maxSurge: '50%',
        annotations: { [LATENCY]: String(BASE.latencySeconds) },
      }),
      90_000,
    );
    // Prometheus scrapes every 15 s: give the old pods a few samples before the first analysis.
    await sleep(35_000);
  });

  after(async () => {
    ctx.emulator.stop();
    log(`release analysis (${ctx.ns}):\n${table(rows)}`);
    await deleteSandbox(ctx.ns);
  });
  return ctx;
}

/**
 * `part`'s good releases (tags 2.<part>.1 ...), one test each (well inside the per-test
 * timeout), each expected to pass analysis and roll out; then a test that reports the file's
 * counts as a diagnostic and fails if any release did not come back with a verdict.
 */
export function goodReleases(part: number, seed: number, runs = GOOD_RUNS_PER_FILE): void {
  const ctx = analysisNamespace(`good-${part}`, seed);
  const good = { runs: 0, falseRollbacks: 0 };
  for (let i = 1; i <= runs; i++) {
    const tag = `2.${part}.${i}`;
    it(`passes good release ${i}/${runs} (${tag}) under the same noise`, async () => {
      const r = await ctx.deploy(
        tag,
        '--json',
        '--prometheus-url',
        PROMETHEUS,
        '--analysis-window',
        '40s',
      );
      const result = parseJson<DeployResult>(r);
      ctx.record(tag, r, result);
      good.runs++;
      if (r.code !== 0) good.falseRollbacks++;
      assert.equal(result.analysis?.result, 'pass', explain(r));
      assert.equal(r.code, 0, explain(r));
      assert.equal(ctx.emulator.podsOf(`${IMAGE_REPO}:${tag}`), REPLICAS);
    });
  }
  it(`reports its ${runs} good releases and the false rollbacks among them`, (t) => {
    t.diagnostic(goodReport(good.runs, good.falseRollbacks));
    assert.equal(good.runs, runs, 'every good release came back with a verdict');
  });
}
