// 18. NetworkPolicy enforced on the real node (kube-router's firewall, cluster/node/up.sh), on the
//     seed's environment: a connection matrix, each cell a real TCP connection from inside a pod
//     (2 s bound): a pod in another namespace reaches neither users nor shifts; a pod with the
//     ingress controller's identity (its namespace and labels as the policy names them; a pod that
//     carries the identity, not an Ingress controller) gets 200 from both APIs' http port, a pod with
//     Prometheus's identity gets /metrics from the ops port and nothing from the http port; users
//     and shifts never reach each other, reach PostgreSQL and the cluster DNS, and nothing else (a
//     pod and a Service of another namespace, the node IP).
//     Controls: each denied cell is allowed from some other source (the target listens and is
//     routed), and two denied cells turn allowed when the policy is relaxed, and denied again when
//     it is restored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { core, explain, kubectl, kubectlOk, log, secs, table, waitUntil } from '../lib/cluster.js';
import {
  IMAGE,
  SEED,
  apiHeaders,
  ensureSeed,
  isReady,
  nodeName,
  podsOf,
  realNodeOrSkip,
  realNodePod,
} from '../lib/realnode.js';

/** A NetworkPolicy's spec as the API serves it (kubectl's JSON: the wire names, e.g. `from`). */
interface PolicySpec {
  ingress?: { from?: PeerSpec[]; ports?: { port?: string | number }[] }[];
  egress?: unknown[];
}
interface PeerSpec {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
}
const policySpec = async (app: string) =>
  (
    JSON.parse(await kubectlOk(['-n', SEED, 'get', 'networkpolicy', app, '-o', 'json'])) as {
      spec: PolicySpec;
    }
  ).spec;
const OTHER_NS = 'netpol-other';
const CLIENT = 'netpol-client';
const CLIENT_PORT = 8080;
const TEST_LABELS = { 'app.kubernetes.io/part-of': 'shiftops-tests' };

/** A client pod: answers 200 on :8080 (a target for the others) and runs the probes (exec). */
const SERVER_JS = `require('node:http').createServer((q, s) => s.end('ok')).listen(${CLIENT_PORT});
process.on('SIGTERM', () => process.exit(0));`;

interface Target {
  name: string;
  host: string;
  port: number;
  /** HTTP GET of this path (allowed = status 200); without it a TCP connect. */
  path?: string;
  headers?: Record<string, string>;
  /** A DNS A lookup of this name through the pod's resolver (the cluster DNS). */
  dns?: string;
}

/**
 * Run inside a pod (node -e PROBE_JS TARGETS_JSON): every target at once, each bounded by 2 s.
 * Prints one outcome per target: `http <status>`, `connected`, `resolved <ip>`, `refused`,
 * `timeout`, or the error code.
 */
const PROBE_JS = `
const net = require('node:net'), http = require('node:http'), dns = require('node:dns');
const outcome = (e) => (e.code === 'ECONNREFUSED' ? 'refused' : e.code || e.message);
const probe = (t) => new Promise((done) => {
  let sock;
  const timer = setTimeout(() => { finish('timeout'); if (sock) sock.destroy(); }, 2000);
  const finish = (r) => { clearTimeout(timer); done(r); };
  if (t.dns) {
    new dns.promises.Resolver({ timeout: 1500, tries: 1 }).resolve4(t.dns)
      .then((a) => finish('resolved ' + a[0]), (e) => finish(outcome(e)));
  } else if (t.path) {
    sock = http.get({ host: t.host, port: t.port, path: t.path, headers: t.headers, agent: false },
      (res) => { res.resume(); finish('http ' + res.statusCode); });
    sock.on('error', (e) => finish(outcome(e)));
  } else {
    sock = net.connect(t.port, t.host);
    sock.on('connect', () => { sock.destroy(); finish('connected'); });
    sock.on('error', (e) => finish(outcome(e)));
  }
});
Promise.all(JSON.parse(process.argv[1]).map(probe)).then((r) => console.log(JSON.stringify(r)));
`;

interface Source {
  name: string;
  namespace: string;
  pod: string;
  container: string;
}

type Expect = 'allow' | 'deny' | 'self';
const allowed = (r: string) => r === 'http 200' || r === 'connected' || r.startsWith('resolved ');
const denied = (r: string) => r === 'timeout' || r === 'refused';

async function probe(src: Source, targets: Target[]): Promise<string[]> {
  const r = await kubectl(
    [
      '-n',
      src.namespace,
      'exec',
      src.pod,
      '-c',
      src.container,
      '--',
      'node',
      '-e',
      PROBE_JS,
      JSON.stringify(targets),
    ],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(explain(r, `probe from ${src.name}`));
  return JSON.parse(r.stdout.trim()) as string[];
}

/** The ingress rule of a policy that opens this named port: the source namespace and pod labels. */
function identityFor(app: string, policy: PolicySpec, port: string) {
  const rule = policy.ingress?.find((r) => r.ports?.some((p) => p.port === port));
  const peer = rule?.from?.[0];
  const namespace = peer?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
  const labels = peer?.podSelector?.matchLabels;
  if (!namespace || !labels)
    throw new Error(`policy ${app}: no namespace + pod peer for port ${port}`);
  return { namespace, labels };
}

async function ensureNamespace(name: string): Promise<boolean> {
  const exists = await core()
    .readNamespace({ name })
    .then(() => true)
    .catch(() => false);
  if (exists) return false;
  await core().createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          ...TEST_LABELS,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  return true;
}

/** The client: a restricted pod on the real node that connects where it is told (SERVER_JS). */
const clientPod = (labels: Record<string, string>): V1Pod =>
  realNodePod(
    CLIENT,
    { ...labels, ...TEST_LABELS },
    {
      name: 'client',
      image: IMAGE('users', '1.0.0'),
      command: ['node', '-e', SERVER_JS],
      ports: [{ containerPort: CLIENT_PORT }],
    },
  );

describe('18. NetworkPolicy enforced on the real node', realNodeOrSkip(), () => {
  const created: string[] = [];
  const clientNamespaces: string[] = [];
  const sources: Source[] = [];
  const targets: Target[] = [];
  let expected: Record<string, Record<string, Expect>> = {};
  let policies: Record<'users' | 'shifts', PolicySpec>;

  before(async () => {
    await ensureSeed();
    policies = { users: await policySpec('users'), shifts: await policySpec('shifts') };
    const ingress = identityFor('users', policies.users, 'http');
    const prometheus = identityFor('users', policies.users, 'ops');
    // Both services' policies name the same two identities.
    assert.deepEqual(identityFor('shifts', policies.shifts, 'http'), ingress);
    assert.deepEqual(identityFor('shifts', policies.shifts, 'ops'), prometheus);

    const clients = [
      { name: 'other namespace', namespace: OTHER_NS, labels: {} },
      { name: 'ingress identity', ...ingress },
      { name: 'Prometheus identity', ...prometheus },
    ];
    for (const c of clients) {
      if (await ensureNamespace(c.namespace)) created.push(c.namespace);
      clientNamespaces.push(c.namespace);
      await core().createNamespacedPod({ namespace: c.namespace, body: clientPod(c.labels) });
    }
    const ips: Record<string, string> = {};
    for (const c of clients) {
      const { value } = await waitUntil(
        `${c.namespace}/${CLIENT} ready`,
        async () => {
          const p = await core().readNamespacedPod({ name: CLIENT, namespace: c.namespace });
          return isReady(p) ? p.status?.podIP : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      ips[c.name] = value;
      sources.push({ name: c.name, namespace: c.namespace, pod: CLIENT, container: 'client' });
    }
    const podOf = async (app: string) => {
      const p = (await podsOf(app)).find(isReady);
      if (!p?.status?.podIP) throw new Error(`no ready ${app} pod`);
      return p;
    };
    const users = await podOf('users');
    const shifts = await podOf('shifts');
    const postgres = await podOf('postgres');
    sources.push(
      { name: 'users', namespace: SEED, pod: users.metadata!.name!, container: 'users' },
      { name: 'shifts', namespace: SEED, pod: shifts.metadata!.name!, container: 'shifts' },
    );
    // A Service outside the allowed set: the other namespace's pod behind a ClusterIP. (The
    // `kubernetes` Service is no such cell here: its endpoint is kwokctl's placeholder 192.0.2.2,
    // which no pod reaches with or without a policy, so a denial there would prove nothing.)
    const otherSvc = await core().createNamespacedService({
      namespace: OTHER_NS,
      body: {
        metadata: { name: CLIENT, labels: TEST_LABELS },
        spec: { selector: TEST_LABELS, ports: [{ port: 80, targetPort: CLIENT_PORT }] },
      },
    });
    const node = await core().readNode({ name: nodeName() });
    const nodeIp = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    assert.ok(nodeIp, 'node InternalIP');
    const port = (p: V1Pod, name: string) => {
      const n = p.spec?.containers[0]?.ports?.find((x) => x.name === name)?.containerPort;
      if (!n) throw new Error(`pod ${p.metadata?.name} has no port ${name}`);
      return n;
    };
    // The http port with a DB-backed request of the API; the ops port with /metrics.
    const svc = (app: string, p: V1Pod) => [
      {
        name: `${app} http`,
        host: p.status!.podIP!,
        port: port(p, 'http'),
        path: `/v1/${app}?limit=2`,
        headers: apiHeaders(),
      },
      { name: `${app} ops`, host: p.status!.podIP!, port: port(p, 'ops'), path: '/metrics' },
    ];
    targets.push(
      ...svc('users', users),
      ...svc('shifts', shifts),
      { name: 'postgres :5432', host: postgres.status!.podIP!, port: port(postgres, 'postgres') },
      { name: 'cluster DNS', host: '', port: 0, dns: `postgres.${SEED}.svc.cluster.local` },
      { name: 'other-ns Service :80', host: otherSvc.spec!.clusterIP!, port: 80, path: '/' },
      {
        name: 'other-ns pod',
        host: ips['other namespace']!,
        port: CLIENT_PORT,
        path: '/',
      },
      { name: 'node IP :10250', host: nodeIp, port: 10250 },
    );
    // What the policies say (deploy/base/*/networkpolicy.yaml, postgres component, default deny).
    const row = (...cells: Expect[]) =>
      Object.fromEntries(targets.map((t, i) => [t.name, cells[i]!]));
    const [A, D, S] = ['allow', 'deny', 'self'] as const;
    expected = {
      'other namespace': row(D, D, D, D, D, A, S, S, A),
      'ingress identity': row(A, D, A, D, D, A, A, A, A),
      'Prometheus identity': row(D, A, D, A, D, A, A, A, A),
      users: row(S, S, D, D, A, A, D, D, D),
      shifts: row(D, D, S, S, A, A, D, D, D),
    };
  });

  after(async () => {
    await core()
      .deleteNamespacedService({ name: CLIENT, namespace: OTHER_NS })
      .catch(() => undefined);
    for (const ns of clientNamespaces)
      await core()
        .deleteNamespacedPod({ name: CLIENT, namespace: ns, gracePeriodSeconds: 0 })
        .catch(() => undefined);
    for (const ns of created)
      await core()
        .deleteNamespace({ name: ns })
        .catch(() => undefined);
    await waitUntil(
      'client pods and namespaces gone',
      async () => {
        for (const ns of created)
          if (
            await core()
              .readNamespace({ name: ns })
              .then(
                () => true,
                () => false,
              )
          )
            return false;
        for (const ns of clientNamespaces)
          if (
            await core()
              .readNamespacedPod({ name: CLIENT, namespace: ns })
              .then(
                () => true,
                () => false,
              )
          )
            return false;
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
  });

  /** The whole matrix, one exec per source: outcome per source and target. */
  async function matrix(): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    await Promise.all(
      sources.map(async (s) => {
        const probed = targets.filter((t) => expected[s.name]![t.name] !== 'self');
        const r = await probe(s, probed);
        out[s.name] = Object.fromEntries(targets.map((t) => [t.name, '·']));
        probed.forEach((t, i) => (out[s.name]![t.name] = r[i]!));
      }),
    );
    return out;
  }

  const mismatches = (m: Record<string, Record<string, string>>) =>
    sources.flatMap((s) =>
      targets.flatMap((t) => {
        const want = expected[s.name]![t.name]!;
        const got = m[s.name]![t.name]!;
        const ok =
          want === 'self' ||
          (want === 'deny' && denied(got)) ||
          (want === 'allow' && (t.path ? got === 'http 200' : allowed(got)));
        return ok ? [] : [`${s.name} -> ${t.name}: want ${want}, got ${got}`];
      }),
    );

  it('the connection matrix is what the policies say, each denied target reachable from elsewhere', async () => {
    // A new pod's address reaches the policies' ipsets at kube-router's next sync (its pod event):
    // wait for the allow cells, then take the whole matrix once.
    let last: Record<string, Record<string, string>> | undefined;
    const { ms } = await waitUntil(
      'the allowed cells allowed',
      async () => {
        last = await matrix();
        return mismatches(last).every((x) => !x.includes('want allow'));
      },
      {
        timeoutMs: 60_000,
        intervalMs: 1000,
        describe: async () => (last ? mismatches(last).join('\n') : 'no matrix yet'),
      },
    );
    log(`allowed cells allowed ${secs(ms)} after the client pods ran`);
    const final = await matrix();
    log(
      'connection matrix (source -> target; 2 s per attempt; · = the pod itself)\n' +
        table([
          ['source', ...targets.map((t) => t.name)],
          ...sources.map((s) => [s.name, ...targets.map((t) => final[s.name]![t.name]!)]),
        ]),
    );
    assert.deepEqual(mismatches(final), []);
    // Each target that some source is denied is allowed from another one: it listens and is routed.
    for (const t of targets) {
      const from = sources.filter((s) => allowed(final[s.name]![t.name]!));
      assert.ok(from.length > 0, `${t.name}: allowed from no source`);
    }
  });

  /** Adds a rule to a policy, waits until the cell is allowed, restores the policy, waits until denied. */
  async function control(
    app: 'users' | 'shifts',
    kind: 'ingress' | 'egress',
    rule: object,
    src: string,
    target: string,
  ): Promise<void> {
    const original = policies[app];
    const t = targets.find((x) => x.name === target)!;
    const s = sources.find((x) => x.name === src)!;
    const cell = async () => (await probe(s, [t]))[0]!;
    assert.ok(denied(await cell()), `${src} -> ${target} denied before the change`);
    const patch = (ops: object[]) =>
      kubectl([
        '-n',
        SEED,
        'patch',
        'networkpolicy',
        app,
        '--type=json',
        '-p',
        JSON.stringify(ops),
      ]);
    let r = await patch([{ op: 'add', path: `/spec/${kind}/-`, value: rule }]);
    assert.equal(r.code, 0, explain(r));
    try {
      const open = await waitUntil(
        `${src} -> ${target} allowed`,
        async () => {
          const got = await cell();
          return (t.path ? got === 'http 200' : allowed(got)) ? got : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      log(`${src} -> ${target}: ${open.value} ${secs(open.ms)} after the ${kind} rule was added`);
    } finally {
      r = await patch([{ op: 'replace', path: `/spec/${kind}`, value: original[kind] }]);
      assert.equal(r.code, 0, explain(r));
      const closed = await waitUntil(
        `${src} -> ${target} denied again`,
        async () => {
          const got = await cell();
          return denied(got) ? got : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      log(`restored: ${src} -> ${target} ${closed.value} ${secs(closed.ms)} after`);
      assert.deepEqual(await policySpec(app), original, `${app} policy restored`);
    }
  }

  it('control: a denied cell is allowed once the policy allows it, and denied again once restored', async () => {
    await control(
      'users',
      'ingress',
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OTHER_NS } } }],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
      'other namespace',
      'users http',
    );
    await control(
      'users',
      'egress',
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OTHER_NS } } }],
        ports: [{ port: CLIENT_PORT, protocol: 'TCP' }],
      },
      'users',
      'other-ns pod',
    );
  });
});
