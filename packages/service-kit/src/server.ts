import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from './app.js';
import { ConfigError, loadConfig, type Config, type ServiceIdentity } from './config.js';
import { isDatabaseUnavailable, type Database } from './db/database.js';
import { DataDirError } from './db/data-dir.js';
import { migrate } from './db/migrate.js';
import { openDatabase } from './db/open.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

export interface ServiceDefinition {
  identity: ServiceIdentity;
  /** Folder of numbered .sql files. */
  migrationsDir: string;
  buildApp(deps: {
    config: AppConfig;
    db: Database;
    logger: FastifyBaseLogger;
    lifecycle: Lifecycle;
  }): Promise<FastifyInstance>;
  /** Fills an empty database with deterministic data for `users` users; returns rows added. */
  seed(db: Database, users: number): Promise<number>;
}

const DEMO_USERS = 300;
const EX_USAGE = 64;
const EX_CANTCREAT = 73;
const EX_CONFIG = 78;

/** Migrates, retrying while the database is still coming up (pods often start before it). */
async function migrateWithRetry(db: Database, def: ServiceDefinition, logger: Logger) {
  for (let attempt = 1; ; attempt++) {
    try {
      const { applied } = await migrate(db, def.identity.name, def.migrationsDir);
      logger.info({ applied }, applied.length ? 'migrations applied' : 'schema up to date');
      return;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      const wait = Math.min(5000, 250 * 2 ** attempt);
      logger.warn({ err: (err as Error).message, retryInMs: wait }, 'database not reachable yet');
      await sleep(wait);
    }
  }
}

/**
 * The process around an app: `server.js` serves, `server.js migrate` migrates and exits,
 * `server.js seed <users>` loads a data set of that size (10 shifts per user) and exits.
 */
export async function main(def: ServiceDefinition, argv = process.argv.slice(2)): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig(def.identity);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${def.identity.name}: ${err.message}\n`);
    process.exit(EX_CONFIG);
  }
  const logger = createLogger(config);
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled promise rejection');
    process.exit(1);
  });

  const [command = 'serve', arg] = argv;
  if (!['serve', 'migrate', 'seed'].includes(command)) {
    process.stderr.write(`usage: server.js [serve | migrate | seed <users>]\n`);
    process.exit(EX_USAGE);
  }
  let db: Database;
  try {
    db = await openDatabase(config, logger);
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err;
    process.stderr.write(`${def.identity.name}: ${err.message}\n`);
    process.exit(EX_CANTCREAT);
  }
  if (command === 'migrate') {
    await migrateWithRetry(db, def, logger);
    await db.close();
    return;
  }
  if (command === 'seed') {
    const users = Number(arg ?? DEMO_USERS);
    if (!Number.isInteger(users) || users < 1) {
      process.stderr.write(`seed: <users> must be a positive integer, got ${arg}\n`);
      process.exit(EX_USAGE);
    }
    await migrateWithRetry(db, def, logger);
    const added = await def.seed(db, users);
    logger.info({ added }, added ? 'seeded' : 'database not empty; nothing seeded');
    await db.close();
    return;
  }
  await serve(def, config, db, logger);
}

/** Listens first (liveness holds while the database comes up), then migrates, then is ready. */
async function serve(
  def: ServiceDefinition,
  config: Readonly<Config>,
  db: Database,
  logger: Logger,
) {
  const lifecycle = new Lifecycle({ starting: true });
  const app = await def.buildApp({ config, db, logger, lifecycle });
  await app.ops.listen({ port: config.opsPort, host: config.host });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    void shutdown(signal);
  };
  // Order (podinfo): unready at once, let endpoints notice, stop accepting, finish in-flight
  // requests, close the pool, exit 0.
  const shutdown = async (signal: NodeJS.Signals) => {
    logger.info({ signal, drainDelayMs: config.drainDelayMs }, 'shutting down: draining');
    lifecycle.startDraining();
    await sleep(config.drainDelayMs);
    const forced = setTimeout(() => {
      logger.error(
        { timeoutMs: config.shutdownTimeoutMs },
        'in-flight requests did not finish in time',
      );
      process.exit(1);
    }, config.shutdownTimeoutMs);
    await app.close();
    await db.close();
    clearTimeout(forced);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  if (config.migrateOnStart) await migrateWithRetry(db, def, logger);
  if (config.seedDemoData) {
    const added = await def.seed(db, DEMO_USERS);
    if (added) logger.info({ added }, 'demo data loaded');
  }
  lifecycle.markStarted();
}
