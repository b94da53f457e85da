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
  /** More annotations to set in the same write (the analysis record and hold). */
  extraAnnotations: Record<string, string> = {},
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
  const wanted = { [CHANGE_CAUSE_ANNOTATION]: cause, ...extraAnnotations };
  const annotationOps = deployment.metadata?.annotations
    ? Object.entries(wanted).map(([key, value]) => ({
        op: 'add',
        path: `/metadata/annotations/${pointerSegment(key)}`,
        value,
      }))
    : [{ op: 'add', path: '/metadata/annotations', value: wanted }];
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
