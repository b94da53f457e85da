// The cluster's Prometheus (kwokctl's host process on 127.0.0.1) as the Service `prometheus:9090`
// in a namespace of the real node, so `shiftops deploy` reaches it the default way: through the
// API server's service proxy. That proxy reads the Service's v1 Endpoints and only dials an address
// whose targetRef is a pod of that namespace with that IP (kube-apiserver v1.34
// pkg/registry/core/service/storage/storage.go, ResourceLocation and isValidAddress): a
// selectorless Service with a hand-made EndpointSlice (or Endpoints) to a host address is refused.
// So a real pod stands in for a Prometheus pod: a small TCP relay on the real node, selected by
// the Service, that forwards to the node's IP, where a Forwarder in the test process (accepting
// only that pod) forwards to Prometheus. Path of each query:
//   CLI -> API server -> relay pod :9090 -> node IP :<free port> (test process) -> 127.0.0.1:<port>
import { DiscoveryV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { Forwarder } from './forwarder.js';
import { adminConfig, core, explain, kubectl, waitUntil } from './cluster.js';
import { PROMETHEUS_URL } from './prometheus.js';
import { nodeName, realNodePod } from './realnode.js';

export const PROMETHEUS_SERVICE = 'prometheus';
export const PROMETHEUS_PORT = 9090;
const RELAY = 'prometheus-relay';
const LABELS = { 'app.kubernetes.io/name': RELAY, 'app.kubernetes.io/part-of': 'shiftops-tests' };

/** Relays each connection on :9090 to $UPSTREAM_HOST:$UPSTREAM_PORT (node's own `net`, no files). */
const RELAY_JS = `
const net = require('node:net');
const host = process.env.UPSTREAM_HOST, port = Number(process.env.UPSTREAM_PORT);
net.createServer((c) => {
  const u = net.connect(port, host);
  const end = () => { c.destroy(); u.destroy(); };
  for (const s of [c, u]) { s.on('error', end); s.on('close', end); }
  c.pipe(u).pipe(c);
}).listen(${PROMETHEUS_PORT});
process.on('SIGTERM', () => process.exit(0));
`;

const discovery = () => adminConfig().makeApiClient(DiscoveryV1Api);
const networking = () => adminConfig().makeApiClient(NetworkingV1Api);

export interface ExposedPrometheus {
  forwarder: Forwarder;
  relayPodIp: string;
  /** The proxy path's service name, as RBAC names it: `prometheus:9090`. */
  proxyName: string;
  remove(): Promise<void>;
}

/** Node InternalIP of the real node: pods reach it (cluster/node/cni.conflist routes it). */
async function nodeIp(): Promise<string> {
  const node = await core().readNode({ name: nodeName() });
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!ip) throw new Error(`node ${nodeName()} has no InternalIP`);
  return ip;
}

/** The service proxy's path to a Prometheus query of `prometheus:9090` in namespace. */
export const proxyQueryPath = (namespace: string, service: string, query: string) =>
  `/api/v1/namespaces/${namespace}/services/${service}/proxy/api/v1/query?query=${encodeURIComponent(query)}`;

/** GET through the service proxy as the admin: Prometheus' answer; throws with kubectl's error. */
async function proxiedQuery(namespace: string): Promise<string> {
  const path = proxyQueryPath(namespace, `${PROMETHEUS_SERVICE}:${PROMETHEUS_PORT}`, 'vector(1)');
  const r = await kubectl(['get', '--raw', path], { timeoutMs: 15_000 });
  if (r.code !== 0 || !r.stdout.includes('"status":"success"')) throw new Error(explain(r, path));
  return r.stdout;
}

/**
 * Creates the relay pod (image: one already on the real node) and the Service `prometheus` in
 * `namespace`, waits until a query through the service proxy answers; remove() takes both away
 * again and stops the forwarder.
 */
export async function exposePrometheus(
  namespace: string,
  image: string,
): Promise<ExposedPrometheus> {
  const prometheus = new URL(PROMETHEUS_URL);
  const forwarder = await Forwarder.start(await nodeIp(), {
    host: prometheus.hostname,
    port: Number(prometheus.port),
  });
  const remove = async () => {
    try {
      await core()
        .deleteNamespacedService({ name: PROMETHEUS_SERVICE, namespace })
        .catch(() => undefined);
      await core()
        .deleteNamespacedPod({ name: RELAY, namespace, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      await networking()
        .deleteNamespacedNetworkPolicy({ name: RELAY, namespace })
        .catch(() => undefined);
      await waitUntil(
        `service, endpoints and pod ${RELAY} gone from ${namespace}`,
        async () => {
          const gone = (p: Promise<unknown>) =>
            p.then(
              () => false,
              () => true,
            );
          const all = await Promise.all([
            gone(core().readNamespacedService({ name: PROMETHEUS_SERVICE, namespace })),
            gone(core().readNamespacedEndpoints({ name: PROMETHEUS_SERVICE, namespace })),
            gone(core().readNamespacedPod({ name: RELAY, namespace })),
            gone(networking().readNamespacedNetworkPolicy({ name: RELAY, namespace })),
            discovery()
              .listNamespacedEndpointSlice({
                namespace,
                labelSelector: `kubernetes.io/service-name=${PROMETHEUS_SERVICE}`,
              })
              .then((l) => l.items.length === 0),
          ]);
          return all.every(Boolean);
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
    } finally {
      await forwarder.stop();
    }
  };
  try {
    // The seed namespace denies all egress by default (deploy/base/namespace/default-deny.yaml),
    // enforced on the real node: the relay may reach exactly the forwarder.
    await networking().createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name: RELAY, labels: LABELS },
        spec: {
          podSelector: { matchLabels: { 'app.kubernetes.io/name': RELAY } },
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: `${forwarder.host}/32` } }],
              ports: [{ port: forwarder.port, protocol: 'TCP' }],
            },
          ],
        },
      },
    });
    await core().createNamespacedPod({
      namespace,
      body: realNodePod(RELAY, LABELS, {
        name: 'relay',
        image,
        command: ['node', '-e', RELAY_JS],
        env: [
          { name: 'UPSTREAM_HOST', value: forwarder.host },
          { name: 'UPSTREAM_PORT', value: String(forwarder.port) },
        ],
      }),
    });
    await core().createNamespacedService({
      namespace,
      body: {
        metadata: { name: PROMETHEUS_SERVICE, labels: LABELS },
        spec: {
          selector: { 'app.kubernetes.io/name': RELAY },
          ports: [{ name: 'web', port: PROMETHEUS_PORT, targetPort: PROMETHEUS_PORT }],
        },
      },
    });
    const { value: relayPodIp } = await waitUntil(
      `pod ${RELAY} running with an IP`,
      async () => {
        const p = await core().readNamespacedPod({ name: RELAY, namespace });
        return p.status?.phase === 'Running' ? p.status.podIP : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    forwarder.allow(relayPodIp);
    await waitUntil('a query through the service proxy answers', () => proxiedQuery(namespace), {
      timeoutMs: 60_000,
      intervalMs: 1000,
      describe: async () => {
        const r = await kubectl(['-n', namespace, 'describe', 'pod', RELAY]);
        return `forwarder ${JSON.stringify(forwarder.stats)}\n${r.stdout.slice(-1500)}`;
      },
    });
    return {
      forwarder,
      relayPodIp,
      proxyName: `${PROMETHEUS_SERVICE}:${PROMETHEUS_PORT}`,
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
