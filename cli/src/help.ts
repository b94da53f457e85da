// --help text. Each command shows runnable examples; the exit codes come from exit-codes.ts.
import { exitCodeHelp } from './rollout/exit-codes.js';
import {
  DEFAULT_ANALYSIS_WINDOW_SECONDS,
  DEFAULT_PROMETHEUS_SERVICE,
  DEFAULT_TIMEOUT_SECONDS,
} from './args.js';
import { DEFAULT_THRESHOLDS } from './analysis/decide.js';
import { DEFAULT_NAMESPACE, SERVICES } from './services.js';

const GLOBAL = `Global options:
  --context NAME       kubeconfig context (default: the current context)
  -n, --namespace NS   namespace (default: the context's namespace, then "${DEFAULT_NAMESPACE}")
  --kubeconfig PATH    kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --request-timeout D  longest wait for the API server: each call, and silence on a watch
                       before it is re-established (default 30s; connecting: at most 10s of it)
  --json               print one machine-readable JSON result on stdout, no progress
  -q, --quiet          print only the final result and errors
  -h, --help           this help`;

const EXIT_CODES = `Exit codes:\n${exitCodeHelp.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join('\n')}`;

const COMMANDS: Record<string, string> = {
  deploy: `shiftops deploy <service> <image-or-tag> [--analysis=auto|required|off] [--analysis-window 60s] [--timeout 5m] [--no-rollback]

Sets the image of the <service> container, records who/what/when in kubernetes.io/change-cause,
and watches the rollout. By default it first rolls out ONE new pod and holds the rest: once that
pod is Ready the Deployment is paused and the pod is compared with the old pods on the same
traffic (5xx share and p95 latency from Prometheus). Worse beyond a threshold, with enough
evidence: rolled back at once (exit 1), printing the numbers. Otherwise the rollout resumes.
If it fails, it rolls back to the revision that was live before, waits for that, and exits 1.

<image-or-tag>: a bare tag (no '/', ':' or '@') keeps the current repository; sha256:<hex> pins a
digest of it; anything else is a full image reference.

A release fails when the analysis finds the new pod worse, when the Deployment exceeds
progressDeadlineSeconds (kubectl's rule), or earlier when a new pod hits CrashLoopBackOff,
ImagePullBackOff, ErrImagePull, CreateContainerConfigError, a container restart, pod creation is
rejected, or a pod runs without turning Ready for longer than --ready-timeout (default: its
startup + readiness probe budget + 10s, at least 30s).

  --analysis MODE        auto (default): analyse; too little traffic or no Prometheus -> warn and go on
                         required: too little traffic or no Prometheus fails the release
                         off: no analysis, plain rolling update
  --analysis-window D    how long the first new pod is compared (default ${DEFAULT_ANALYSIS_WINDOW_SECONDS}s, at least 30s)
  --max-error-increase P fail if the new pod's 5xx share exceeds the old pods' by more (default ${DEFAULT_THRESHOLDS.maxErrorIncrease * 100}%)
  --max-p95-ratio R      fail if the new pod's p95 exceeds the old pods' times R (default ${DEFAULT_THRESHOLDS.maxP95Ratio})
  --min-requests N       requests each side needs before anything is concluded (default ${DEFAULT_THRESHOLDS.minRequests})
  --prometheus-service S [namespace/]name:port, reached through the API server (default ${DEFAULT_PROMETHEUS_SERVICE} in -n)
  --prometheus-url URL   query Prometheus at URL instead (e.g. http://127.0.0.1:9090)
  --timeout D            give up waiting after D (default ${DEFAULT_TIMEOUT_SECONDS}s); exit 3, nothing rolled back
  --ready-timeout D      how long a running pod may stay unready before the release is failed
  --wait=false           set the image and exit without watching (no analysis, no automatic rollback)
  --no-rollback          on failure, leave the failed release in place (exit 1)

Examples:
  shiftops deploy users 1.8.0
  shiftops deploy shifts ghcr.io/acme/shifts:1.8.0 --analysis=required --analysis-window 2m
  shiftops deploy users 1.8.0 --max-error-increase 0.5% --max-p95-ratio 1.3 --min-requests 300
  shiftops deploy users 1.8.0 --prometheus-service monitoring/prometheus-operated:9090
  shiftops deploy users 1.8.1-rc1 --analysis=off --no-rollback --ready-timeout 45s
  shiftops deploy users 1.8.0 --json | jq .analysis`,
  rollback: `shiftops rollback <service> [--to-revision N] [--timeout 5m] [--wait=false]

Rolls back like \`kubectl rollout undo\`: to the previous revision, or to revision N (see
\`shiftops history\`), then waits for the rollout with the same failure rules as deploy.
Refuses a paused Deployment, or a revision that does not exist (listing those that do).

  --to-revision N      the revision to restore (default: the previous one)
  --timeout D          give up waiting after D (default ${DEFAULT_TIMEOUT_SECONDS}s); exit 3
  --ready-timeout D    how long a running pod may stay unready before the rollback is failed
  --wait=false         patch and exit without watching

Examples:
  shiftops rollback users
  shiftops rollback shifts --to-revision 4`,
  promote: `shiftops promote <service> --from <place> --to <place>[,<place>...] [deploy's flags]

Deploys to each --to place, in order, exactly the image digest the --from place runs (the pods'
imageID, not the tag), with deploy's verdict, analysis and automatic rollback. Refuses (exit 64,
nothing changed) unless the source is settled and healthy: rollout complete, not paused, every
replica Ready on one revision and one digest, and its analysis record (if any) says "pass".
A wave stops at the first place that does not succeed (that one is rolled back by deploy);
the rest are not attempted. The exit code is that place's deploy exit code.

<place>: namespace@context, a kubeconfig context (its namespace), or a namespace of the current
context.

  --timeout, --ready-timeout, --no-rollback, --analysis...   as for deploy, for every target

Examples:
  shiftops promote users --from shiftops-staging --to shiftops-production
  shiftops promote users --from staging --to prod-eu,prod-us,prod-ap
  shiftops promote shifts --from shiftops-staging@staging --to shiftops-production@prod-eu --json`,
  history: `shiftops history <service>

Lists revisions with their image, what their release analysis said, change-cause, creation
time, and which one is live.

Examples:
  shiftops history users
  shiftops history shifts --json`,
  status: `shiftops status [service]

For each service (default: ${SERVICES.join(', ')}): desired/updated/ready/available replicas, image,
revision, rollout state, HPA replicas and metrics (current/target), and recent warning events.

Examples:
  shiftops status
  shiftops status users -n staging`,
};

export function helpText(topic?: string): string {
  if (topic && COMMANDS[topic]) return `${COMMANDS[topic]}\n\n${GLOBAL}\n\n${EXIT_CODES}\n`;
  const summary = Object.values(COMMANDS)
    .map((text) => `  ${text.split('\n')[0]}`)
    .join('\n');
  return `shiftops: deploy and roll back the ${SERVICES.join(' and ')} services on Kubernetes

Usage:
${summary}

Run "shiftops <command> --help" for details and examples.

${GLOBAL}

${EXIT_CODES}
`;
}
