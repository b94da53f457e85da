// Command-line parsing with node's util.parseArgs (no dependency). Pure: argv in, a typed command
// or a usage error out; main() does the I/O.
import { parseArgs } from 'node:util';
import { SERVICES, type Service } from './services.js';
import { DEFAULT_THRESHOLDS, FIRST_CHECK_SECONDS, type Thresholds } from './analysis/decide.js';
import type { AnalysisMode } from './analysis/record.js';

export interface GlobalOptions {
  context?: string;
  namespace?: string;
  kubeconfig?: string;
  /** Bound on each API call, and on a watch's silence (default 30). */
  requestTimeoutSeconds?: number;
  json: boolean;
  quiet: boolean;
}

export interface WaitOptions {
  wait: boolean;
  timeoutSeconds: number;
  /** undefined: derive from the pod's probes (see defaultReadyTimeoutSeconds). */
  readyTimeoutSeconds?: number;
}

export interface AnalysisOptions {
  mode: AnalysisMode;
  windowSeconds: number;
  thresholds: Thresholds;
  /** Direct URL; otherwise the Service through the API server's proxy. */
  prometheusUrl?: string;
  /** `name:port`, in `prometheusNamespace` (default: the deploy namespace). */
  prometheusService: string;
  prometheusNamespace?: string;
}

export const DEFAULT_ANALYSIS_WINDOW_SECONDS = 60;
export const DEFAULT_PROMETHEUS_SERVICE = 'prometheus:9090';

export type Command =
  | ({
      name: 'deploy';
      service: Service;
      image: string;
      rollback: boolean;
      analysis: AnalysisOptions;
    } & WaitOptions)
  | ({ name: 'rollback'; service: Service; toRevision: number } & WaitOptions)
  | {
      name: 'promote';
      service: Service;
      /** `namespace@context`, a context, or a namespace of the current context. */
      from: string;
      /** In order: a wave stops at the first failure. */
      to: string[];
      /** The deploy each target gets (its image is the source's digest). */
      deploy: { rollback: boolean; analysis: AnalysisOptions } & WaitOptions;
    }
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
  'request-timeout': { type: 'string' },
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
  from: { type: 'string' },
  to: { type: 'string' },
  analysis: { type: 'string' },
  'analysis-window': { type: 'string' },
  'max-error-increase': { type: 'string' },
  'max-p95-ratio': { type: 'string' },
  'min-requests': { type: 'string' },
  'prometheus-url': { type: 'string' },
  'prometheus-service': { type: 'string' },
} as const;

const ANALYSIS_FLAGS = [
  'analysis',
  'analysis-window',
  'max-error-increase',
  'max-p95-ratio',
  'min-requests',
  'prometheus-url',
  'prometheus-service',
] as const;

/** `1%`, `0.5%` or a fraction `0.01`. */
export function parseFraction(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value);
  if (!m) return undefined;
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  return v >= 0 && v <= 1 ? v : undefined;
}

type Values = Partial<Record<(typeof ANALYSIS_FLAGS)[number], string>>;

/** The analysis flags of `deploy`, validated; a string is the usage error. */
export function parseAnalysisOptions(v: Values): AnalysisOptions | string {
  const mode = v.analysis ?? 'auto';
  if (mode !== 'auto' && mode !== 'required' && mode !== 'off')
    return `--analysis: "${mode}" is not one of auto, required, off`;
  const windowSeconds =
    v['analysis-window'] === undefined
      ? DEFAULT_ANALYSIS_WINDOW_SECONDS
      : parseDuration(v['analysis-window']);
  if (windowSeconds === undefined || windowSeconds < FIRST_CHECK_SECONDS)
    return `--analysis-window: "${v['analysis-window']}" is not a duration of at least ${FIRST_CHECK_SECONDS}s (like 60s or 2m)`;
  const t: Thresholds = { ...DEFAULT_THRESHOLDS };
  if (v['max-error-increase'] !== undefined) {
    const f = parseFraction(v['max-error-increase']);
    if (f === undefined)
      return `--max-error-increase: "${v['max-error-increase']}" is not a share like 1% or 0.01`;
    t.maxErrorIncrease = f;
  }
  if (v['max-p95-ratio'] !== undefined) {
    const r = Number(v['max-p95-ratio']);
    if (!/^\d+(\.\d+)?$/.test(v['max-p95-ratio']) || !(r > 1))
      return `--max-p95-ratio: "${v['max-p95-ratio']}" is not a ratio above 1 like 1.5`;
    t.maxP95Ratio = r;
  }
  if (v['min-requests'] !== undefined) {
    if (!/^\d+$/.test(v['min-requests']) || Number(v['min-requests']) < 1)
      return `--min-requests: "${v['min-requests']}" is not a whole number of requests like 100`;
    t.minRequests = Number(v['min-requests']);
  }
  let prometheusUrl: string | undefined;
  if (v['prometheus-url'] !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(v['prometheus-url']);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
      return `--prometheus-url: "${v['prometheus-url']}" is not an http(s) URL like http://127.0.0.1:9090`;
    if (v['prometheus-service'] !== undefined)
      return '--prometheus-url and --prometheus-service are alternatives: give one';
    prometheusUrl = v['prometheus-url'];
  }
  const svc = v['prometheus-service'] ?? DEFAULT_PROMETHEUS_SERVICE;
  const m = /^(?:([a-z0-9-]+)\/)?([a-z0-9-]+:[a-z0-9-]+)$/.exec(svc);
  if (!m)
    return `--prometheus-service: "${svc}" is not [namespace/]name:port like monitoring/prometheus:9090`;
  return {
    mode,
    windowSeconds,
    thresholds: t,
    ...(prometheusUrl ? { prometheusUrl } : {}),
    prometheusService: m[2]!,
    ...(m[1] ? { prometheusNamespace: m[1] } : {}),
  };
}

/** Flags each command accepts beyond the global ones; anything else is a usage error. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  deploy: [
    'timeout',
    'ready-timeout',
    'wait',
    'no-wait',
    'rollback',
    'no-rollback',
    ...ANALYSIS_FLAGS,
  ],
  rollback: ['timeout', 'ready-timeout', 'wait', 'no-wait', 'to-revision'],
  promote: ['from', 'to', 'timeout', 'ready-timeout', 'rollback', 'no-rollback', ...ANALYSIS_FLAGS],
  history: [],
  status: [],
};
const GLOBAL_FLAGS = [
  'context',
  'namespace',
  'kubeconfig',
  'request-timeout',
  'json',
  'quiet',
  'help',
];

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
  const requestTimeout =
    v['request-timeout'] === undefined ? undefined : parseDuration(v['request-timeout']);
  if (v['request-timeout'] !== undefined && (requestTimeout === undefined || requestTimeout <= 0)) {
    return {
      ok: false,
      error: `--request-timeout: "${v['request-timeout']}" is not a duration like 30s or 1m`,
      ...(name ? { topic: name } : {}),
    };
  }
  const global: GlobalOptions = {
    ...(v.context !== undefined ? { context: v.context } : {}),
    ...(v.namespace !== undefined ? { namespace: v.namespace } : {}),
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    ...(requestTimeout !== undefined ? { requestTimeoutSeconds: requestTimeout } : {}),
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
  const maxPositionals = { deploy: 2, rollback: 1, promote: 1, history: 1, status: 1 }[name] ?? 0;
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
  if (name === 'promote') {
    if (!v.from) return usage('missing --from <namespace|context|namespace@context>');
    if (!v.to) return usage('missing --to <namespace|context|namespace@context>[,...]');
    const to = v.to.split(',').map((t) => t.trim());
    if (to.some((t) => t === '')) return usage(`--to: "${v.to}" has an empty entry`);
    const all = [v.from, ...to];
    const dup = all.find((t, i) => all.indexOf(t) !== i);
    if (dup !== undefined) return usage(`"${dup}" appears twice in --from/--to`);
    if (global.context !== undefined || global.namespace !== undefined)
      return usage('promote takes its places from --from and --to, not --context/--namespace');
    const analysis = parseAnalysisOptions(v);
    if (typeof analysis === 'string') return usage(analysis);
    return {
      ok: true,
      global,
      command: {
        name,
        service: svc,
        from: v.from,
        to,
        deploy: { rollback: !v['no-rollback'], analysis, ...wait },
      },
    };
  }
  if (name === 'deploy') {
    const image = rest[1];
    if (image === undefined) return usage('missing <image-or-tag>');
    const analysis = parseAnalysisOptions(v);
    if (typeof analysis === 'string') return usage(analysis);
    if (analysis.mode === 'required' && !wait.wait)
      return usage('--analysis=required needs to watch the rollout: drop --wait=false');
    return {
      ok: true,
      global,
      command: { name, service: svc, image, rollback: !v['no-rollback'], analysis, ...wait },
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
