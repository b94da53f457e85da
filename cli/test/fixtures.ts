// Builders for Deployment/ReplicaSet/Pod objects in tests: only the fields the logic reads.
import type { V1Deployment, V1Pod, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

export const DEPLOYMENT_UID = 'd-uid';

export function template(
  image: string,
  extra: Partial<V1PodTemplateSpec['spec']> = {},
): V1PodTemplateSpec {
  return {
    metadata: { labels: { 'app.kubernetes.io/name': 'users' } },
    spec: { containers: [{ name: 'users', image }], ...extra },
  };
}

export function deployment(o: {
  generation?: number;
  observedGeneration?: number;
  specReplicas?: number;
  replicas?: number;
  updated?: number;
  available?: number;
  ready?: number;
  image?: string;
  revision?: number;
  paused?: boolean;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  annotations?: Record<string, string>;
}): V1Deployment {
  return {
    metadata: {
      name: 'users',
      namespace: '7shifts',
      uid: DEPLOYMENT_UID,
      generation: o.generation ?? 1,
      resourceVersion: '100',
      annotations: {
        ...(o.revision !== undefined
          ? { 'deployment.kubernetes.io/revision': String(o.revision) }
          : {}),
        ...o.annotations,
      },
    },
    spec: {
      ...(o.specReplicas !== undefined ? { replicas: o.specReplicas } : {}),
      selector: { matchLabels: { 'app.kubernetes.io/name': 'users' } },
      template: template(o.image ?? 'ghcr.io/acme/users:1.0.0'),
      ...(o.paused ? { paused: true } : {}),
    },
    status: {
      observedGeneration: o.observedGeneration ?? 1,
      replicas: o.replicas ?? 0,
      updatedReplicas: o.updated ?? 0,
      availableReplicas: o.available ?? 0,
      readyReplicas: o.ready ?? 0,
      conditions: (o.conditions ?? []) as NonNullable<V1Deployment['status']>['conditions'],
    },
  };
}

export function replicaSet(o: {
  name: string;
  revision?: number | string;
  image: string;
  hash?: string;
  created?: string;
  owner?: string;
  annotations?: Record<string, string>;
  replicas?: number;
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}): V1ReplicaSet {
  const t = template(o.image);
  t.metadata = {
    labels: { ...t.metadata?.labels, 'pod-template-hash': o.hash ?? o.name.split('-').pop() ?? '' },
  };
  return {
    metadata: {
      name: o.name,
      uid: `uid-${o.name}`,
      creationTimestamp: new Date(o.created ?? '2025-01-01T00:00:00Z'),
      annotations: {
        ...(o.revision !== undefined
          ? { 'deployment.kubernetes.io/revision': String(o.revision) }
          : {}),
        ...o.annotations,
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'users',
          uid: o.owner ?? DEPLOYMENT_UID,
          controller: true,
        },
      ],
    },
    spec: { replicas: o.replicas ?? 0, selector: { matchLabels: {} }, template: t },
    status: {
      replicas: o.replicas ?? 0,
      conditions: (o.conditions ?? []) as NonNullable<V1ReplicaSet['status']>['conditions'],
    },
  };
}

type ContainerState = NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number];

export function pod(o: {
  name: string;
  hash: string;
  phase?: string;
  ready?: boolean;
  container?: Partial<ContainerState>;
  terminating?: boolean;
  unschedulable?: string;
}): V1Pod {
  const container: ContainerState = {
    name: 'users',
    image: 'x',
    imageID: '',
    ready: o.ready ?? false,
    restartCount: 0,
    ...o.container,
  };
  return {
    metadata: {
      name: o.name,
      labels: { 'app.kubernetes.io/name': 'users', 'pod-template-hash': o.hash },
      ...(o.terminating ? { deletionTimestamp: new Date() } : {}),
    },
    spec: { containers: [{ name: 'users', image: 'x' }] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        { type: 'Ready', status: o.ready ? 'True' : 'False' },
        ...(o.unschedulable
          ? [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: o.unschedulable,
              },
            ]
          : []),
      ],
      containerStatuses: [container],
    },
  };
}
