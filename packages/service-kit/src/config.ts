import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import Type, { type Static } from 'typebox';

// The one place that reads process.env. Every variable is listed here with its default, so the
// README's configuration table and this schema describe the same thing.
const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  DB_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  DB_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  DRAIN_DELAY_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 5000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 10_000 }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  DEMO_DATA: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], {
    default: 'auto',
  }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10_485_760, default: 65_536 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000 }),
  APP_VERSION: Type.Optional(Type.String({ minLength: 1 })),
  GIT_COMMIT: Type.String({ minLength: 1, default: 'unknown' }),
  // Required only by a build with FAULT=crash-at-start, and set by no manifest.
  FEATURE_FLAGS_URL: Type.Optional(Type.String({ minLength: 1 })),
  NODE_ENV: Type.Optional(Type.String()),
  OPS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9090 }),
  AUTH: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { default: 'enabled' }),
  AUTH_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  AUTH_JWKS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_JWKS: Type.Optional(Type.String({ minLength: 2 })),
  AUTH_CLOCK_TOLERANCE_S: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  AUTH_CLAIM_PREFIX: Type.String({ default: '' }),
  AUTH_JWKS_CACHE_MAX_AGE_S: Type.Integer({ minimum: 10, maximum: 86_400, default: 600 }),
});

type RawConfig = Static<typeof ConfigSchema>;

const hints: Record<string, string> = {
  PORT: 'a port number such as 8080 (0 picks a free port)',
  DATABASE_URL:
    'a URL like postgres://user:password@host:5432/db, or unset it to use the embedded database',
  LOG_LEVEL: 'one of fatal, error, warn, info, debug, trace, silent',
  DEMO_DATA: 'auto, true or false',
  MIGRATE_ON_START: 'true or false',
  AUTH: 'enabled (the default) or disabled (never under NODE_ENV=production)',
  AUTH_JWKS_URL: "the issuer's JWKS URL, e.g. https://idp.example.com/.well-known/jwks.json",
};

/** JSON Web Key Set as published by an issuer (RFC 7517). */
export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

export type AuthConfig =
  | { mode: 'disabled' }
  | {
      mode: 'enabled';
      issuer: string;
      audience: string;
      /** Where verification keys come from: the issuer's JWKS URL, or a fixed set (dev, tests). */
      keys:
        | { kind: 'remote'; url: string; cacheMaxAgeS: number }
        | { kind: 'local'; jwks: JsonWebKeySet };
      clockToleranceS: number;
      /** Prepended to the custom claim names (role, locations, user_id), e.g. https://shiftops.dev/ */
      claimPrefix: string;
    };

export interface ServiceIdentity {
  /** Service name: also its PostgreSQL schema and its default PGlite directory. */
  name: string;
  version: string;
}

/**
 * A deliberate fault of a test release, baked into its image by the Dockerfile's FAULT build
 * argument (docs/images.md): it starts only from the image, never from the environment.
 */
export type Fault =
  | { kind: 'none' }
  | { kind: 'crash-at-start' }
  | { kind: 'never-ready' }
  | { kind: 'errors'; percent: number }
  | { kind: 'slow'; delayMs: number };

const FAULT_SYNTAX =
  'none, crash-at-start, never-ready, errors:<1-100 percent> or slow:<1-60000 ms>';

/** Parses the baked fault; anything else is a broken build and fails start-up. */
export function parseFault(text: string): Fault {
  const value = text.trim();
  if (value === '' || value === 'none') return { kind: 'none' };
  if (value === 'crash-at-start' || value === 'never-ready') return { kind: value };
  const m = /^(errors|slow):(\d+)$/.exec(value);
  const n = Number(m?.[2]);
  if (m?.[1] === 'errors' && n >= 1 && n <= 100) return { kind: 'errors', percent: n };
  if (m?.[1] === 'slow' && n >= 1 && n <= 60_000) return { kind: 'slow', delayMs: n };
  throw new ConfigError(
    `invalid build fault ${JSON.stringify(value)}; the image must be built with FAULT=${FAULT_SYNTAX}`,
  );
}

/** The fault file the Dockerfile writes to /app/build-fault; none outside an image. */
export function readBuildFault(file = new URL('../../../build-fault', import.meta.url)): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw err;
  }
}

export interface Config {
  service: ServiceIdentity;
  port: number;
  host: string;
  database:
    | { kind: 'postgres'; url: string; poolMax: number; statementTimeoutMs: number }
    | { kind: 'pglite'; dataDir: string };
  logLevel: string;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  migrateOnStart: boolean;
  seedDemoData: boolean;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  gitCommit: string;
  fault: Fault;
  /** Port of /livez, /readyz, /metrics, /version: reachable inside the cluster only. */
  opsPort: number;
  auth: AuthConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true });
const validate = ajv.compile<RawConfig>(ConfigSchema);

/**
 * Reads and validates the environment once, with the image's baked fault; a bad variable fails
 * start-up with its name and the fix.
 */
export function loadConfig(
  service: ServiceIdentity,
  env: Record<string, string | undefined> = process.env,
  buildFault: string = readBuildFault(),
): Readonly<Config> {
  const fault = parseFault(buildFault);
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.slice(1) || String(e.params['missingProperty'] ?? '');
      const shown = key === 'DATABASE_URL' ? '(hidden)' : JSON.stringify(env[key]);
      return `${key}=${shown} ${e.message ?? 'is invalid'}; set it to ${hints[key] ?? 'a valid value'}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(problems)].join('\n  ')}`);
  }
  const c = raw as RawConfig;
  if (fault.kind === 'crash-at-start' && !c.FEATURE_FLAGS_URL) {
    throw new ConfigError(
      'invalid configuration:\n  FEATURE_FLAGS_URL is required by this build (FAULT=crash-at-start) and is not set',
    );
  }
  const auth = authConfig(c);
  const database: Config['database'] = c.DATABASE_URL
    ? {
        kind: 'postgres',
        url: c.DATABASE_URL,
        poolMax: c.DB_POOL_MAX,
        statementTimeoutMs: c.DB_STATEMENT_TIMEOUT_MS,
      }
    : { kind: 'pglite', dataDir: c.DATA_DIR ?? `.data/${service.name}` };
  return Object.freeze({
    service: { name: service.name, version: c.APP_VERSION ?? service.version },
    port: c.PORT,
    host: c.HOST,
    database,
    logLevel: c.LOG_LEVEL,
    drainDelayMs: c.DRAIN_DELAY_MS,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    migrateOnStart: c.MIGRATE_ON_START,
    seedDemoData: c.DEMO_DATA === 'true' || (c.DEMO_DATA === 'auto' && database.kind === 'pglite'),
    bodyLimitBytes: c.BODY_LIMIT_BYTES,
    requestTimeoutMs: c.REQUEST_TIMEOUT_MS,
    gitCommit: c.GIT_COMMIT,
    fault,
    opsPort: c.OPS_PORT,
    auth,
  });
}

const fail = (message: string): never => {
  throw new ConfigError(`invalid configuration:\n  ${message}`);
};

function authConfig(c: RawConfig): AuthConfig {
  if (c.AUTH === 'disabled') {
    if (c.NODE_ENV === 'production') {
      fail('AUTH=disabled is refused under NODE_ENV=production; configure AUTH_ISSUER instead');
    }
    return { mode: 'disabled' };
  }
  const missing = (['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((k) => c[k] === undefined);
  const sources = (['AUTH_JWKS_URL', 'AUTH_JWKS_FILE', 'AUTH_JWKS'] as const).filter(
    (k) => c[k] !== undefined,
  );
  if (missing.length || sources.length !== 1) {
    const what = [
      ...missing.map((k) => `${k} is required`),
      ...(sources.length === 1
        ? []
        : [`set exactly one of AUTH_JWKS_URL, AUTH_JWKS_FILE, AUTH_JWKS (got ${sources.length})`]),
    ];
    fail(
      `${what.join('; ')}: point the service at the token issuer (see docs/access.md), ` +
        'or set AUTH=disabled outside production',
    );
  }
  let keys: Extract<AuthConfig, { mode: 'enabled' }>['keys'];
  if (c.AUTH_JWKS_URL !== undefined) {
    keys = { kind: 'remote', url: c.AUTH_JWKS_URL, cacheMaxAgeS: c.AUTH_JWKS_CACHE_MAX_AGE_S };
  } else {
    const name = c.AUTH_JWKS_FILE !== undefined ? 'AUTH_JWKS_FILE' : 'AUTH_JWKS';
    let text: string;
    try {
      text = c.AUTH_JWKS_FILE !== undefined ? readFileSync(c.AUTH_JWKS_FILE, 'utf8') : c.AUTH_JWKS!;
    } catch (err) {
      return fail(
        `AUTH_JWKS_FILE cannot be read (${(err as NodeJS.ErrnoException).code}); give the path of a JWKS file`,
      );
    }
    keys = { kind: 'local', jwks: parseJwks(text, name) };
  }
  return {
    mode: 'enabled',
    issuer: c.AUTH_ISSUER!,
    audience: c.AUTH_AUDIENCE!,
    keys,
    clockToleranceS: c.AUTH_CLOCK_TOLERANCE_S,
    claimPrefix: c.AUTH_CLAIM_PREFIX,
  };
}

function parseJwks(text: string, name: string): JsonWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`${name} is not JSON; give a JWKS: {"keys": [ ...public keys... ]}`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k && typeof k === 'object')) {
    fail(`${name} has no keys; give a JWKS: {"keys": [ ...public keys... ]}`);
  }
  if ((keys as Record<string, unknown>[]).some((k) => 'd' in k)) {
    fail(`${name} contains a private key; give only the public keys`);
  }
  return { keys: keys as Record<string, unknown>[] };
}
