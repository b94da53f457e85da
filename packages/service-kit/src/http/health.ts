import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database.js';
import type { Lifecycle } from '../lifecycle.js';

const PING_TIMEOUT_MS = 1000;

/** podinfo-style probes: /livez never looks at dependencies, /readyz does. */
export function registerHealth(
  app: FastifyInstance,
  db: Database,
  lifecycle: Lifecycle,
  /** Why tokens cannot be verified (no issuer keys), or undefined. */
  authUnavailable: () => Promise<string | undefined>,
  version: { service: string; version: string; commit: string },
) {
  app.get('/livez', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (lifecycle.draining) return reply.status(503).send({ status: 'draining' });
    if (lifecycle.starting) return reply.status(503).send({ status: 'starting' });
    try {
      await db.ping(PING_TIMEOUT_MS);
    } catch {
      reply.header('retry-after', '2');
      return reply.status(503).send({ status: 'database unavailable' });
    }
    const keys = await authUnavailable();
    if (keys) return reply.status(503).send({ status: 'token keys unavailable', detail: keys });
    return { status: 'ready' };
  });

  app.get('/version', async () => version);
}
