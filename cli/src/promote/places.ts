// Where `promote --from/--to` point: `namespace@context`, a kubeconfig context (its own namespace),
// or a namespace of the current context. Pure: the kubeconfig's context names come in. A namespace
// is a DNS label and never holds '@', so the first '@' splits even context names like kubeadm's
// `kubernetes-admin@kubernetes`.

export interface Place {
  /** As typed, for messages and --json. */
  spec: string;
  context: string;
  /** undefined: the context's own namespace (then the CLI's default). */
  namespace?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function resolvePlace(
  spec: string,
  contexts: readonly string[],
  currentContext: string,
): { ok: true; place: Place } | { ok: false; error: string } {
  const at = spec.indexOf('@');
  if (at >= 0) {
    const namespace = spec.slice(0, at);
    const context = spec.slice(at + 1);
    if (!DNS_LABEL.test(namespace))
      return { ok: false, error: `"${spec}": "${namespace}" is not a namespace name` };
    if (!contexts.includes(context))
      return {
        ok: false,
        error: `"${spec}": no context "${context}" in kubeconfig (known: ${contexts.join(', ') || 'none'})`,
      };
    return { ok: true, place: { spec, context, namespace } };
  }
  if (contexts.includes(spec)) return { ok: true, place: { spec, context: spec } };
  if (DNS_LABEL.test(spec))
    return { ok: true, place: { spec, context: currentContext, namespace: spec } };
  return {
    ok: false,
    error: `"${spec}" is neither a kubeconfig context (known: ${contexts.join(', ') || 'none'}) nor a namespace name; use namespace@context`,
  };
}
