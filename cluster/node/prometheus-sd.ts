// The test cluster's Prometheus and the real node's pods (cluster/node/up.sh runs both modes):
//   config <prometheus.yaml> <targets.json>
//       adds deploy/components/prometheus-scrape's job to kwokctl's Prometheus config, reading
//       its targets from targets.json (prometheus-targets.ts says why); the caller reloads it.
//   watch <kubeconfig> <node> <pod-ip-prefix> <targets.json>
//       keeps targets.json equal to the node's pods (an API watch through client-node's
//       informer, re-started after an error) until SIGTERM. Written by rename: Prometheus never
//       reads half a file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { podTargets, withPodJobs, type PrometheusConfig } from './prometheus-targets.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const COMPONENT = join(REPO, 'deploy/components/prometheus-scrape/scrape-config.yaml');

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

function config(prometheusYaml: string, targetsFile: string): void {
  const merged = withPodJobs(
    parse(readFileSync(prometheusYaml, 'utf8')) as PrometheusConfig,
    parse(readFileSync(COMPONENT, 'utf8')) as PrometheusConfig,
    targetsFile,
  );
  writeAtomically(prometheusYaml, stringify(merged));
}

async function watch(kubeconfig: string, node: string, prefix: string, targetsFile: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const fieldSelector = `spec.nodeName=${node}`;
  const informer = new ListWatch<V1Pod>(
    '/api/v1/pods',
    new Watch(kc),
    () => api.listPodForAllNamespaces({ fieldSelector }),
    false,
    undefined,
    fieldSelector,
  );
  let last = '';
  const write = () => {
    const text = JSON.stringify(podTargets(informer.list(), node, prefix), null, 1) + '\n';
    if (text === last) return;
    writeAtomically(targetsFile, text);
    last = text;
  };
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, write);
  informer.on('connect', write);
  let stopping = false;
  informer.on('error', (err) => {
    if (stopping) return;
    process.stderr.write(`watch error, restarting in 1 s: ${String(err)}\n`);
    setTimeout(() => void informer.start().catch(() => undefined), 1000);
  });
  const stop = () => {
    stopping = true;
    void informer.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await informer.start();
  write();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'config' && args.length === 2) config(args[0]!, args[1]!);
else if (mode === 'watch' && args.length === 4) await watch(args[0]!, args[1]!, args[2]!, args[3]!);
else {
  process.stderr.write(
    'usage: prometheus-sd.ts config <prometheus.yaml> <targets.json>\n' +
      '       prometheus-sd.ts watch <kubeconfig> <node> <pod-ip-prefix> <targets.json>\n',
  );
  process.exit(64);
}
