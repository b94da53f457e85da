// The cluster's Prometheus (a kwokctl component, a host process whose pid kwokctl keeps in
// <cluster dir>/pids/prometheus.pid): its URL, instant queries, its alerts, rule files loaded
// for a test, and stopping and restarting it, to see what the HPA does without it.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { withRuleFiles } from '../../../cluster/prometheus/rules.js';
import { kubeconfigPath, waitUntil } from './cluster.js';

/** The cluster's Prometheus, on 127.0.0.1 (run.sh's port). */
export const PROMETHEUS_URL = `http://127.0.0.1:${process.env.SHIFTOPS_PROMETHEUS_PORT ?? '19090'}`;

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query; throws with Prometheus' error on anything but success. */
export async function query(expr: string): Promise<Sample[]> {
  const url = `${PROMETHEUS_URL}/api/v1/query?query=${encodeURIComponent(expr)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: Sample[] };
  };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

/** The kwokctl cluster's directory (kwokctl delete cluster removes it). */
export const clusterDir = () => dirname(kubeconfigPath());

/** Where Prometheus keeps its TSDB: its storage.tsdb.path flag, as it reports it. */
export async function storagePath(): Promise<string> {
  const res = await fetch(`${PROMETHEUS_URL}/api/v1/status/flags`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { data?: Record<string, string> };
  const path = body.data?.['storage.tsdb.path'];
  if (!path) throw new Error(`no storage.tsdb.path in ${JSON.stringify(body).slice(0, 200)}`);
  return path;
}
const pidFile = () => join(clusterDir(), 'pids', 'prometheus.pid');

interface Proc {
  pid: number;
  argv: string[];
  cwd: string;
  url: string;
}

function running(): Proc | undefined {
  try {
    const pid = Number(readFileSync(pidFile(), 'utf8').trim());
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (!argv[0]?.endsWith('prometheus')) return undefined;
    const listen = argv.find((a) => a.startsWith('--web.listen-address='))?.split('=')[1];
    const url = `http://${listen ?? `127.0.0.1:${process.env.SHIFTOPS_PROMETHEUS_PORT ?? '19090'}`}`;
    return { pid, argv, cwd: readlinkSync(`/proc/${pid}/cwd`), url };
  } catch {
    return undefined;
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

/** Stops Prometheus; returns what is needed to start it again exactly as kwokctl did. */
export async function stopPrometheus(): Promise<Proc> {
  const p = running();
  if (!p) throw new Error(`no running Prometheus found via ${pidFile()}`);
  process.kill(p.pid, 'SIGTERM');
  await waitUntil('Prometheus stopped', async () => !running() && !(await ready(p.url)), {
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  return p;
}

export async function startPrometheus(p: Proc): Promise<void> {
  const logFd = openSync(join(clusterDir(), 'logs', 'prometheus.log'), 'a');
  const child = spawn(p.argv[0]!, p.argv.slice(1), {
    cwd: p.cwd,
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  child.unref();
  // kwokctl (down.sh) stops components by this pid file.
  writeFileSync(pidFile(), String(child.pid));
  await waitUntil('Prometheus ready again', () => ready(p.url), { timeoutMs: 60_000 });
}

export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

/** The alerts Prometheus holds now (pending or firing); a resolved alert is no longer listed. */
export async function alerts(): Promise<Alert[]> {
  const res = await fetch(`${PROMETHEUS_URL}/api/v1/alerts`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { status: string; data?: { alerts: Alert[] } };
  if (body.status !== 'success') throw new Error(`/api/v1/alerts: ${res.status}`);
  return body.data?.alerts ?? [];
}

export interface LoadedRule {
  group: string;
  name: string;
  type: 'alerting' | 'recording';
  /** the expression as Prometheus parsed it */
  query: string;
}

/** Every rule Prometheus has loaded, by group. */
async function loadedGroups(): Promise<{ name: string; rules: LoadedRule[] }[]> {
  const res = await fetch(`${PROMETHEUS_URL}/api/v1/rules`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as {
    data?: { groups: { name: string; rules: Omit<LoadedRule, 'group'>[] }[] };
  };
  return (body.data?.groups ?? []).map((g) => ({
    name: g.name,
    rules: g.rules.map((r) => ({ ...r, group: g.name })),
  }));
}

/** Names of the rule groups Prometheus has loaded. */
export async function ruleGroups(): Promise<string[]> {
  return (await loadedGroups()).map((g) => g.name);
}

/** The loaded rule (alert or recording) of that name, as Prometheus evaluates it. */
export async function loadedRule(name: string): Promise<LoadedRule | undefined> {
  return (await loadedGroups()).flatMap((g) => g.rules).find((r) => r.name === name);
}

/** SIGHUP: Prometheus reads its config file (and the rule files it names) again. */
function reload(): void {
  const p = running();
  if (!p) throw new Error(`no running Prometheus found via ${pidFile()}`);
  process.kill(p.pid, 'SIGHUP');
}

/**
 * Has the cluster's Prometheus evaluate `groups` (a rule file's `groups:`, e.g. a
 * PrometheusRule's spec.groups): the file next to its config and `rule_files` naming it after
 * the files there (cluster/up.sh loads the latency component's rule), then a reload. There is no
 * Prometheus Operator here to turn a PrometheusRule into one. Returns a function that puts the
 * config back as it was (byte for byte), removes the file and reloads; it works after a
 * stop/start of Prometheus too.
 */
export async function loadRules(name: string, groups: unknown[]): Promise<() => Promise<void>> {
  const p = running();
  if (!p) throw new Error(`no running Prometheus found via ${pidFile()}`);
  const flag = p.argv.find((a) => a.startsWith('--config.file='));
  if (!flag) throw new Error(`Prometheus (pid ${p.pid}) runs without --config.file`);
  const configPath = resolve(p.cwd, flag.slice('--config.file='.length));
  const original = readFileSync(configPath, 'utf8');
  const rulesPath = join(dirname(configPath), `${name}.rules.yaml`);
  const names = groups.map((g) => (g as { name: string }).name);
  writeFileSync(rulesPath, stringify({ groups }));
  const config = parse(original) as { rule_files?: string[] };
  writeFileSync(configPath, stringify(withRuleFiles(config, [rulesPath])));
  const restore = async () => {
    writeFileSync(configPath, original);
    rmSync(rulesPath, { force: true });
    reload();
    await waitUntil(
      `rule groups ${names.join(', ')} unloaded`,
      async () => !(await ruleGroups()).some((g) => names.includes(g)),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  };
  try {
    reload();
    await waitUntil(
      `rule groups ${names.join(', ')} loaded`,
      async () => {
        const loaded = await ruleGroups();
        return names.every((n) => loaded.includes(n));
      },
      {
        timeoutMs: 30_000,
        intervalMs: 250,
        describe: async () =>
          readFileSync(join(clusterDir(), 'logs', 'prometheus.log'), 'utf8').slice(-1500),
      },
    );
  } catch (err) {
    await restore().catch(() => undefined);
    throw err;
  }
  return restore;
}
