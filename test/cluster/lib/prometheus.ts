// The cluster's Prometheus (a kwokctl component, a host process whose pid kwokctl keeps in
// <cluster dir>/pids/prometheus.pid): its URL, instant queries, and stopping and restarting it,
// to see what the HPA does without it.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

const clusterDir = () => dirname(kubeconfigPath());
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
