// --help text. Each command shows runnable examples; the exit codes come from exit-codes.ts.
import { exitCodeHelp } from './rollout/exit-codes.js';
import { DEFAULT_TIMEOUT_SECONDS } from './args.js';
import { DEFAULT_NAMESPACE, SERVICES } from './services.js';

const GLOBAL = `Global options:
  --context NAME       kubeconfig context (default: the current context)
  -n, --namespace NS   namespace (default: the context's namespace, then "${DEFAULT_NAMESPACE}")
  --kubeconfig PATH    kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --json               print one machine-readable JSON result on stdout, no progress
  -q, --quiet          print only the final result and errors
  -h, --help           this help`;

const EXIT_CODES = `Exit codes:\n${exitCodeHelp.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`).join('\n')}`;

const COMMANDS: Record<string, string> = {
  deploy: `shiftops deploy <service> <image-or-tag> [--timeout 5m] [--ready-timeout 60s] [--wait=false] [--no-rollback]

Sets the image of the <service> container, records who/what/when in kubernetes.io/change-cause,
and watches the rollout. If it fails, rolls back to the revision that was live before and waits
for that, then exits 1.

<image-or-tag>: a bare tag (no '/', ':' or '@') keeps the current repository; sha256:<hex> pins a
digest of it; anything else is a full image reference.

A release fails when the Deployment exceeds progressDeadlineSeconds (kubectl's rule), or earlier
when a new pod hits CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError,
a container restart, pod creation is rejected, or a pod runs without turning Ready for longer than
--ready-timeout (default: its startup + readiness probe budget + 10s, at least 30s).

  --timeout D          give up waiting after D (default ${DEFAULT_TIMEOUT_SECONDS}s); exit 3, nothing rolled back
  --ready-timeout D    how long a running pod may stay unready before the release is failed
  --wait=false         set the image and exit without watching (no automatic rollback)
  --no-rollback        on failure, leave the failed release in place (exit 1)

Examples:
  shiftops deploy users 1.8.0
  shiftops deploy shifts ghcr.io/acme/shifts:1.8.0 --timeout 3m
  shiftops deploy users 1.8.1-rc1 --no-rollback --ready-timeout 45s
  shiftops deploy users 1.8.0 --json | jq .result`,
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
  history: `shiftops history <service>

Lists revisions with their image, change-cause, creation time, and which one is live.

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
