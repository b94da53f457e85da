// The test cluster's own kube-apiserver as a process: kill it and start it again, the way a crash
// and a supervisor's restart look to clients. kwokctl (binary runtime) runs each component as a
// host process with a pid file in the cluster's directory (<dir>/pids/<component>.pid), and
// `kwokctl start cluster` starts exactly the components whose pid is not running. So the kill is by
// the pid in this cluster's own file, checked against /proc before the signal, and the restart is
// kwokctl's: no other cluster's processes are ever looked at.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { kubeconfigPath, kubectl, run, sleep, waitUntil } from './cluster.js';

/** kwokctl's cluster directory holds the admin kubeconfig: <workdir>/clusters/<name>/kubeconfig.yaml. */
function clusterDir(): string {
  return dirname(kubeconfigPath());
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** Component -> pid, for the components whose pid file names a live process of this cluster. */
export function componentPids(): Map<string, number> {
  const dir = join(clusterDir(), 'pids');
  const pids = new Map<string, number>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
    const name = f.slice(0, -'.pid'.length);
    // Ours only if it runs that binary with this cluster's directory in its arguments.
    const cmd = Number.isInteger(pid) && pid > 0 ? cmdline(pid) : undefined;
    if (cmd?.includes(name) && cmd.includes(clusterDir())) pids.set(name, pid);
  }
  return pids;
}

async function apiServerReady(): Promise<boolean> {
  const r = await kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5000 });
  return r.code === 0 && r.stdout.trim() === 'ok';
}

/** `kwokctl start cluster` for this cluster: starts the components that are not running. */
async function kwokctlStart(): Promise<void> {
  const dir = clusterDir();
  const r = await run('kwokctl', ['--name', basename(dir), 'start', 'cluster'], {
    env: { KWOK_WORKDIR: dirname(dirname(dir)) },
    timeoutMs: 180_000,
  });
  if (r.code !== 0) throw new Error(`kwokctl start cluster: exit ${r.code}\n${r.stderr}`);
}

export interface Killed {
  pid: number;
  at: number;
  /** Every component of this cluster that ran at the kill, by pid. */
  components: Map<string, number>;
}

export interface Outage {
  killedPid: number;
  newPid: number;
  /** SIGKILL -> /readyz ok again. */
  downMs: number;
  /** Components other than kube-apiserver that exited during the outage and were started again. */
  alsoRestarted: string[];
}

/** SIGKILLs this cluster's kube-apiserver (as a crash would) and waits until the process is gone. */
export async function killApiServer(): Promise<Killed> {
  const components = componentPids();
  const pid = components.get('kube-apiserver');
  if (pid === undefined) throw new Error(`no running kube-apiserver in ${clusterDir()}/pids`);
  const at = Date.now();
  process.kill(pid, 'SIGKILL');
  await waitUntil('kube-apiserver gone', async () => cmdline(pid) === undefined, {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  return { pid, at, components };
}

/**
 * Starts kube-apiserver again with kwokctl and waits for /readyz. kube-controller-manager and
 * kube-scheduler hold leader leases (renew deadline 10 s): if the outage outlasts it they exit, as
 * they do on a real control plane, where the kubelet restarts them. Here kwokctl plays that
 * supervisor: until 15 s after the kill (when every lease that could lapse has lapsed) any
 * component that exited is started again.
 */
export async function restartApiServer(killed: Killed): Promise<Outage> {
  await kwokctlStart();
  await waitUntil('kube-apiserver ready again', apiServerReady, {
    timeoutMs: 120_000,
    intervalMs: 250,
  });
  const downMs = Date.now() - killed.at;
  const alsoRestarted = new Set<string>();
  for (;;) {
    if (Date.now() - killed.at > 180_000)
      throw new Error(
        `components still exiting 180 s after the kill: ${[...alsoRestarted].join(', ')}`,
      );
    const now = componentPids();
    const missing = [...killed.components.keys()].filter((c) => !now.has(c));
    if (missing.length > 0) {
      missing.filter((c) => c !== 'kube-apiserver').forEach((c) => alsoRestarted.add(c));
      await kwokctlStart();
    } else if (Date.now() - killed.at > 15_000) break;
    await sleep(1000);
  }
  const newPid = componentPids().get('kube-apiserver');
  if (newPid === undefined || newPid === killed.pid)
    throw new Error(`kube-apiserver was not started again (pid ${newPid})`);
  return { killedPid: killed.pid, newPid, downMs, alsoRestarted: [...alsoRestarted].sort() };
}
