import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import {
  Lifecycle,
  migrate,
  openPGlite,
  openPostgres,
  type Database,
  type ServiceDefinition,
} from '../src/index.js';
import { bearer, testAuthConfig } from './auth.js';

export const silentLogger = pino({ level: 'silent' });

/**
 * The PostgreSQL server tests use: TEST_DATABASE_URL, which scripts/run-tests.ts sets (it starts
 * a throwaway server from this machine's binaries when none is given). Under CI a missing server
 * is a failure, never a skip.
 */
export function postgresUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error(
      'CI=true but TEST_DATABASE_URL is not set: the PostgreSQL suites must run in CI',
    );
  }
  return url;
}

/** A new, empty database on the test server; drop() removes it. */
export async function createTestDatabase(
  adminUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `shiftops_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function openTestPostgres(url: string, poolMax = 10): Database {
  return openPostgres({
    url,
    poolMax,
    statementTimeoutMs: 10_000,
    applicationName: 'test',
    logger: silentLogger,
  });
}

const templates = new Map<string, Promise<Blob>>();

/** Creating a PGlite database runs initdb (~5 s): do it once per service, then clone the dump. */
async function pgliteFor(service: ServiceDefinition): Promise<Database> {
  let template = templates.get(service.identity.name);
  if (!template) {
    template = (async () => {
      const db = await openPGlite();
      await migrate(db, service.identity.name, service.migrationsDir);
      const dump = await db.raw.dumpDataDir('none');
      await db.close();
      return dump;
    })();
    templates.set(service.identity.name, template);
  }
  return openPGlite({ loadDataDir: await template });
}

export interface TestApp {
  /**
   * The app, as a client that sends the test administrator's token with every inject() that
   * sets no Authorization header of its own.
   */
  readonly app: FastifyInstance;
  /** The same app with inject() as is: no token unless the request carries one. */
  readonly bare: FastifyInstance;
  readonly db: Database;
  readonly backend: 'pglite' | 'postgres';
}

/**
 * Runs the same suite against PGlite and a real PostgreSQL server, each on a fresh, migrated
 * database, with the service's app built around it (no socket: use app.inject).
 */
export function forEachDatabase(service: ServiceDefinition, suite: (t: TestApp) => void): void {
  for (const backend of ['pglite', 'postgres'] as const) {
    const url = backend === 'postgres' ? postgresUrl() : undefined;
    const skip =
      backend === 'postgres' && !url ? 'no PostgreSQL server (set TEST_DATABASE_URL)' : false;
    const state: {
      app?: FastifyInstance;
      asAdmin?: FastifyInstance;
      db?: Database;
      drop?: () => Promise<void>;
    } = {};
    const t: TestApp = {
      backend,
      get app() {
        if (!state.asAdmin) throw new Error('app not built yet');
        return state.asAdmin;
      },
      get bare() {
        if (!state.app) throw new Error('app not built yet');
        return state.app;
      },
      get db() {
        if (!state.db) throw new Error('database not open yet');
        return state.db;
      },
    };
    describe(`${service.identity.name} on ${backend}`, { skip }, () => {
      before(async () => {
        if (backend === 'postgres') {
          const created = await createTestDatabase(url!);
          state.drop = created.drop;
          state.db = openTestPostgres(created.url);
          await migrate(state.db, service.identity.name, service.migrationsDir);
        } else {
          state.db = await pgliteFor(service);
        }
        state.app = await service.buildApp({
          config: {
            service: service.identity,
            bodyLimitBytes: 65_536,
            gitCommit: 'test',
            auth: await testAuthConfig(),
          },
          db: state.db,
          logger: silentLogger,
          lifecycle: new Lifecycle(),
        });
        await state.app.ready();
        state.asAdmin = asAdmin(state.app, (await bearer()).authorization);
      });
      after(async () => {
        await state.app?.close();
        await state.db?.close();
        await state.drop?.();
      });
      suite(t);
    });
  }
}

/** The app whose inject() adds the admin token when the request has no Authorization header. */
function asAdmin(app: FastifyInstance, authorization: string): FastifyInstance {
  const withToken = (opts: string | InjectOptions): InjectOptions => {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    const headers = { ...(o.headers ?? {}) } as Record<string, unknown>;
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
      headers['authorization'] = authorization;
    }
    return { ...o, headers } as InjectOptions;
  };
  return new Proxy(app, {
    get(target, prop, receiver) {
      if (prop === 'inject') {
        return (opts: string | InjectOptions) => target.inject(withToken(opts));
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/** Asserts an RFC 9457 response with this status that names `field` (when given). */
export function assertProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
  field?: string,
): void {
  const body = res.json() as {
    status?: number;
    type?: string;
    title?: string;
    errors?: { field: string }[];
  };
  if (res.statusCode !== status) {
    throw new Error(`expected ${status}, got ${res.statusCode}: ${JSON.stringify(body)}`);
  }
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(
      `expected application/problem+json, got ${String(res.headers['content-type'])}`,
    );
  }
  if (body.status !== status || typeof body.type !== 'string' || typeof body.title !== 'string') {
    throw new Error(`not a problem document: ${JSON.stringify(body)}`);
  }
  if (field && !body.errors?.some((e) => e.field === field)) {
    throw new Error(`expected the problem to name ${field}: ${JSON.stringify(body)}`);
  }
}
