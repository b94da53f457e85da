// Connecting to the cluster: kubeconfig loading the standard way (--kubeconfig, then $KUBECONFIG,
// ~/.kube/config, in-cluster), namespace resolution, typed API clients, and error classification.
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { DEFAULT_NAMESPACE } from '../services.js';
import {
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  TimedKubeConfig,
  isTimeout,
  timeoutsFor,
  type Timeouts,
} from './timeouts.js';

export interface Kube {
  kc: KubeConfig;
  namespace: string;
  context: string;
  /** The API server's URL, for messages. */
  server: string;
  timeouts: Timeouts;
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
  requestTimeoutSeconds?: number;
}

/** A failure the CLI explains and maps to an exit code, rather than a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly kind:
      'usage' | 'refused' | 'unreachable' | 'forbidden' | 'conflict' | 'not-found' | 'timeout',
    /** For a timeout: the request may have been applied although no answer came. */
    readonly mayHaveChanged = false,
  ) {
    super(message);
  }
}

export function connect(opts: ConnectOptions): Kube {
  const kc = new TimedKubeConfig();
  kc.timeouts = timeoutsFor(opts.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS);
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
    server: kc.getCurrentCluster()?.server ?? '?',
    timeouts: kc.timeouts,
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

/**
 * A timeout, explained: which server, what we were doing, whether anything may have changed, and
 * the fix. main() and promote use it where they know the Kube the error came from.
 */
export function explain(
  err: CliError,
  kube: Pick<Kube, 'server' | 'context' | 'timeouts'>,
): string {
  if (err.kind !== 'timeout') return err.message;
  return `${err.message} (${kube.server}, context ${kube.context}, --request-timeout ${kube.timeouts.requestMs / 1000}s); ${
    err.mayHaveChanged
      ? 'the change may or may not have been applied: look ("shiftops status") before retrying'
      : 'nothing was changed'
  }. Check that it is up and reachable from here ("kubectl --context ${kube.context} get --raw /readyz"), or allow longer with --request-timeout`;
}

/** Turns a client error into a CliError: what went wrong, in the API server's words. */
export function classify(err: unknown, doing: string, mayHaveChanged = false): CliError {
  if (err instanceof CliError) return err;
  if (isTimeout(err))
    return new CliError(
      `${doing}: the API server did not answer in time`,
      'timeout',
      mayHaveChanged,
    );
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
