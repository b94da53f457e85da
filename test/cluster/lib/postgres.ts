// The seed's in-cluster PostgreSQL (deploy/components/postgres, StatefulSet `postgres`) as the
// tests see it: SQL through psql in its pod (the local socket, as the image's superuser), the
// volume its pod runs on, and who holds connections to it.
import type { V1Pod } from '@kubernetes/client-node';
import { core, kubectlOk } from './cluster.js';
import { SEED, podsOf } from './realnode.js';

export const POSTGRES_POD = 'postgres-0';

/** Rows of a query (psql -At: one line per row, columns split on `|`). */
export async function psql(sql: string): Promise<string[][]> {
  const out = await kubectlOk(
    [
      '-n',
      SEED,
      'exec',
      '-i',
      POSTGRES_POD,
      '-c',
      'postgres',
      '--',
      'psql',
      '-X',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-U',
      'shiftops',
      '-d',
      'shiftops',
      '-f',
      '-',
    ],
    { input: sql },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'));
}

export async function setting(name: string): Promise<number> {
  const v = Number((await psql(`SHOW ${name};`))[0]?.[0]);
  if (!Number.isInteger(v)) throw new Error(`SHOW ${name} gave no number`);
  return v;
}

/** The pod, its claim and the volume bound to it, by uid, plus the cluster's initdb identity. */
export interface VolumeIdentity {
  pod: string;
  podUid: string;
  claim: string;
  claimUid: string;
  volume: string;
  volumeUid: string;
  /** where the data lives: `local <path>`, `hostPath <path>`, or the volume's kind */
  source: string;
  /** pg_control_system().system_identifier: set by initdb, so a new data directory has another */
  systemIdentifier: string;
}

export async function volumeIdentity(): Promise<VolumeIdentity> {
  const pod = await core().readNamespacedPod({ name: POSTGRES_POD, namespace: SEED });
  const data = pod.spec?.volumes?.find((v) => v.name === 'data');
  const claim = data?.persistentVolumeClaim?.claimName;
  if (!claim)
    throw new Error(
      `${POSTGRES_POD} has no PersistentVolumeClaim for its data: ${JSON.stringify(data)}`,
    );
  const pvc = await core().readNamespacedPersistentVolumeClaim({ name: claim, namespace: SEED });
  const volume = pvc.spec?.volumeName;
  if (!volume) throw new Error(`claim ${claim} is not bound`);
  const pv = await core().readPersistentVolume({ name: volume });
  const s = pv.spec ?? {};
  const source = s.local
    ? `local ${s.local.path}`
    : s.hostPath
      ? `hostPath ${s.hostPath.path}`
      : Object.keys(s).filter((k) => !['accessModes', 'capacity', 'claimRef'].includes(k))[0];
  const [[systemIdentifier] = []] = await psql(
    'SELECT system_identifier FROM pg_control_system();',
  );
  return {
    pod: POSTGRES_POD,
    podUid: pod.metadata!.uid!,
    claim,
    claimUid: pvc.metadata!.uid!,
    volume,
    volumeUid: pv.metadata!.uid!,
    source: source ?? 'unknown',
    systemIdentifier: systemIdentifier ?? '',
  };
}

/** Client connections to the server now, by the pod (of `apps`) whose address holds them. */
export async function connectionsByPod(
  apps: readonly string[],
): Promise<{ total: number; byPod: Map<string, number>; unknown: number }> {
  const pods: V1Pod[] = (await Promise.all(apps.map((a) => podsOf(a)))).flat();
  const nameOf = new Map(pods.map((p) => [p.status?.podIP ?? '', p.metadata!.name!]));
  const rows = await psql(
    `SELECT coalesce(host(client_addr), 'local'), count(*) FROM pg_stat_activity
       WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1;`,
  );
  const byPod = new Map<string, number>();
  let total = 0;
  let unknown = 0;
  for (const [addr, n] of rows) {
    const count = Number(n);
    total += count;
    const name = nameOf.get(addr ?? '');
    if (name) byPod.set(name, count);
    else unknown += count;
  }
  return { total, byPod, unknown };
}
