// Connecting to the cluster: kubeconfig loading the standard way (--kubeconfig, then $KUBECONFIG,
// ~/.kube/config, in-cluster), namespace resolution, typed API clients, and error classification.
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
} from '@kubernetes/client-node';
import { DEFAULT_NAMESPACE } from '../services.js';

export interface Kube {
  kc: KubeConfig;
  namespace: string;
  context: string;
  /** The kubeconfig user name, for the change-cause (the API server's own view may differ). */
  user: string;
  apps: AppsV1Api;
  core: CoreV1Api;
  autoscaling: AutoscalingV2Api;
  authz: AuthorizationV1Api;
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** A failure the CLI explains and maps to an exit code, rather than a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly kind: 'usage' | 'refused' | 'unreachable' | 'forbidden' | 'conflict' | 'not-found',
  ) {
    super(message);
  }
}

export function connect(opts: ConnectOptions): Kube {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new CliError(`cannot load kubeconfig: ${(err as Error).message}`, 'unreachable');
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc
        .getContexts()
        .map((c) => c.name)
        .join(', ');
      throw new CliError(
        `no context "${opts.context}" in kubeconfig (known: ${known || 'none'})`,
        'usage',
      );
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new CliError(
      'no cluster configured: set KUBECONFIG, --kubeconfig or ~/.kube/config',
      'unreachable',
    );
  }
  const context = kc.getCurrentContext();
  const namespace = opts.namespace ?? kc.getContextObject(context)?.namespace ?? DEFAULT_NAMESPACE;
  return {
    kc,
    namespace,
    context,
    user: kc.getCurrentUser()?.name ?? 'unknown',
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    autoscaling: kc.makeApiClient(AutoscalingV2Api),
    authz: kc.makeApiClient(AuthorizationV1Api),
  };
}

/** The Status message in an API error body (a JSON string in client-node 1.x). */
export function apiMessage(err: ApiException<unknown>): string {
  const body = err.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      if (body.trim()) return body.trim();
    }
  } else if (body && typeof body === 'object' && 'message' in body) {
    return String((body as { message: unknown }).message);
  }
  return `HTTP ${err.code}`;
}

export function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** Turns a client error into a CliError: what went wrong, in the API server's words. */
export function classify(err: unknown, doing: string): CliError {
  if (err instanceof CliError) return err;
  const code = statusCode(err);
  if (err instanceof ApiException) {
    const msg = apiMessage(err);
    if (code === 401)
      return new CliError(
        `${doing}: unauthorized (credentials rejected by the API server)`,
        'forbidden',
      );
    if (code === 403) return new CliError(`${doing}: forbidden: ${msg}`, 'forbidden');
    if (code === 404) return new CliError(`${doing}: not found: ${msg}`, 'not-found');
    if (code === 409 || code === 422) return new CliError(`${doing}: conflict: ${msg}`, 'conflict');
    return new CliError(`${doing}: API error ${code}: ${msg}`, 'unreachable');
  }
  if (code === 401 || code === 403)
    return new CliError(`${doing}: forbidden (HTTP ${code})`, 'forbidden');
  const e = err as { message?: string; code?: string };
  return new CliError(`${doing}: cluster unreachable: ${e?.message ?? String(err)}`, 'unreachable');
}
