// The patch `deploy` sends: the equivalent of `kubectl set image` plus the change-cause, as a JSON
// patch whose `test` ops make it fail if the container or its image changed since we read them
// (someone else deploying at the same moment), instead of overwriting their release.
import type { V1Deployment } from '@kubernetes/client-node';
import { CHANGE_CAUSE_ANNOTATION } from './objects.js';

export type SetImagePatch = { ok: true; patch: object[] } | { ok: false; error: string };

/** JSON Pointer escaping (RFC 6901) for the annotation key's '/'. */
function pointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function setImagePatch(
  deployment: V1Deployment,
  container: string,
  image: string,
  cause: string,
): SetImagePatch {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  const index = containers.findIndex((c) => c.name === container);
  if (index < 0) {
    const names = containers.map((c) => c.name).join(', ');
    return {
      ok: false,
      error: `deployment "${deployment.metadata?.name}" has no container "${container}" (it has: ${names})`,
    };
  }
  const base = `/spec/template/spec/containers/${index}`;
  const annotationOps = deployment.metadata?.annotations
    ? [
        {
          op: 'add',
          path: `/metadata/annotations/${pointerSegment(CHANGE_CAUSE_ANNOTATION)}`,
          value: cause,
        },
      ]
    : [{ op: 'add', path: '/metadata/annotations', value: { [CHANGE_CAUSE_ANNOTATION]: cause } }];
  return {
    ok: true,
    patch: [
      { op: 'test', path: `${base}/name`, value: container },
      { op: 'test', path: `${base}/image`, value: containers[index]?.image },
      { op: 'replace', path: `${base}/image`, value: image },
      ...annotationOps,
    ],
  };
}
