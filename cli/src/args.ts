// Command-line parsing with node's util.parseArgs (no dependency). Pure: argv in, a typed command
// or a usage error out; main() does the I/O.
import { parseArgs } from 'node:util';
import { SERVICES, type Service } from './services.js';

export interface GlobalOptions {
  context?: string;
  namespace?: string;
  kubeconfig?: string;
  json: boolean;
  quiet: boolean;
}

export interface WaitOptions {
  wait: boolean;
  timeoutSeconds: number;
  /** undefined: derive from the pod's probes (see defaultReadyTimeoutSeconds). */
  readyTimeoutSeconds?: number;
}

export type Command =
  | ({ name: 'deploy'; service: Service; image: string; rollback: boolean } & WaitOptions)
  | ({ name: 'rollback'; service: Service; toRevision: number } & WaitOptions)
  | { name: 'history'; service: Service }
  | { name: 'status'; services: Service[] }
  | { name: 'help'; topic?: string };

export type Parsed =
  | { ok: true; global: GlobalOptions; command: Command }
  | { ok: false; error: string; topic?: string };

export const DEFAULT_TIMEOUT_SECONDS = 300;

/** `300`, `90s`, `5m`, `1m30s`, `1h`: kubectl's --timeout style. */
export function parseDuration(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!m || value === '') return undefined;
  const [, h = '0', min = '0', s = '0'] = m;
  return Number(h) * 3600 + Number(min) * 60 + Number(s);
}

/**
 * Node 20's parseArgs has no `--no-x` negation nor `--flag=false` for booleans, both of which
 * kubectl users type (`--wait=false`). Rewrite them into explicit `--no-x` flags first.
 */
export function normalizeBooleans(argv: readonly string[], flags: readonly string[]): string[] {
  return argv.map((arg) => {
    for (const flag of flags) {
      if (arg === `--${flag}=false`) return `--no-${flag}`;
      if (arg === `--${flag}=true`) return `--${flag}`;
    }
    return arg;
  });
}

const options = {
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  kubeconfig: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  timeout: { type: 'string' },
  'ready-timeout': { type: 'string' },
  wait: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  rollback: { type: 'boolean' },
  'no-rollback': { type: 'boolean' },
  'to-revision': { type: 'string' },
} as const;

/** Flags each command accepts beyond the global ones; anything else is a usage error. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  deploy: ['timeout', 'ready-timeout', 'wait', 'no-wait', 'rollback', 'no-rollback'],
  rollback: ['timeout', 'ready-timeout', 'wait', 'no-wait', 'to-revision'],
  history: [],
  status: [],
};
const GLOBAL_FLAGS = ['context', 'namespace', 'kubeconfig', 'json', 'quiet', 'help'];

function service(name: string | undefined): Service | string {
  if (name === undefined) return 'missing <service>';
  return (SERVICES as readonly string[]).includes(name)
    ? (name as Service)
    : `unknown service "${name}" (known: ${SERVICES.join(', ')})`;
}

export function parseCommandLine(argv: readonly string[]): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeBooleans(argv, ['wait', 'rollback']),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const { values: v, positionals } = parsed;
  const [name, ...rest] = positionals;
  const global: GlobalOptions = {
    ...(v.context !== undefined ? { context: v.context } : {}),
    ...(v.namespace !== undefined ? { namespace: v.namespace } : {}),
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    json: v.json ?? false,
    quiet: v.quiet ?? false,
  };
  if (name === 'help')
    return { ok: true, global, command: { name: 'help', ...(rest[0] ? { topic: rest[0] } : {}) } };
  if (v.help || name === undefined)
    return { ok: true, global, command: { name: 'help', ...(name ? { topic: name } : {}) } };
  const allowed = COMMAND_FLAGS[name];
  if (!allowed) return { ok: false, error: `unknown command "${name}"` };
  const usage = (error: string): Parsed => ({ ok: false, error, topic: name });

  for (const key of Object.keys(v)) {
    if (!GLOBAL_FLAGS.includes(key) && !allowed.includes(key))
      return usage(`--${key} is not an option of "${name}"`);
  }
  if ((v.wait && v['no-wait']) || (v.rollback && v['no-rollback']))
    return usage('contradictory flags');
  const timeoutSeconds =
    v.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : parseDuration(v.timeout);
  if (timeoutSeconds === undefined || timeoutSeconds <= 0)
    return usage(`--timeout: "${v.timeout}" is not a duration like 300, 90s or 5m`);
  const ready = v['ready-timeout'] === undefined ? undefined : parseDuration(v['ready-timeout']);
  if (v['ready-timeout'] !== undefined && (ready === undefined || ready <= 0)) {
    return usage(`--ready-timeout: "${v['ready-timeout']}" is not a duration like 60, 45s or 2m`);
  }
  const wait: WaitOptions = {
    wait: !v['no-wait'],
    timeoutSeconds,
    ...(ready !== undefined ? { readyTimeoutSeconds: ready } : {}),
  };
  const maxPositionals = { deploy: 2, rollback: 1, history: 1, status: 1 }[name] ?? 0;
  if (rest.length > maxPositionals) return usage(`unexpected argument "${rest[maxPositionals]}"`);

  if (name === 'status') {
    if (rest[0] === undefined)
      return { ok: true, global, command: { name, services: [...SERVICES] } };
    const s = service(rest[0]);
    return SERVICES.includes(s as Service)
      ? { ok: true, global, command: { name, services: [s as Service] } }
      : usage(s);
  }
  const s = service(rest[0]);
  if (!SERVICES.includes(s as Service)) return usage(s);
  const svc = s as Service;
  if (name === 'history') return { ok: true, global, command: { name, service: svc } };
  if (name === 'deploy') {
    const image = rest[1];
    if (image === undefined) return usage('missing <image-or-tag>');
    return {
      ok: true,
      global,
      command: { name, service: svc, image, rollback: !v['no-rollback'], ...wait },
    };
  }
  let toRevision = 0;
  if (v['to-revision'] !== undefined) {
    if (!/^\d+$/.test(v['to-revision']) || Number(v['to-revision']) < 1) {
      return usage(
        `--to-revision: "${v['to-revision']}" is not a revision number (see "shiftops history ${svc}")`,
      );
    }
    toRevision = Number(v['to-revision']);
  }
  return { ok: true, global, command: { name: 'rollback', service: svc, toRevision, ...wait } };
}
