import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from './database.js';
import { openPGlite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite under DATA_DIR. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const d = config.database;
  if (d.kind === 'postgres') {
    return openPostgres({
      url: d.url,
      poolMax: d.poolMax,
      statementTimeoutMs: d.statementTimeoutMs,
      applicationName: config.service.name,
      logger,
    });
  }
  logger.info(
    { dataDir: d.dataDir },
    'using the embedded PGlite database (set DATABASE_URL for PostgreSQL)',
  );
  return openPGlite({ dataDir: d.dataDir });
}
