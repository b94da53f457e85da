import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { Fault } from '../config.js';
import { HttpProblem } from './problems.js';

/**
 * What a test release's baked fault does to requests (docs/images.md). crash-at-start never gets
 * here: config.ts refuses to start it. never-ready keeps /readyz at 503 while /livez stays 200 (so
 * the pod is never restarted, never ready); errors fails that share of API requests, spread
 * evenly; slow delays every API request.
 */
export function registerFault(app: FastifyInstance, ops: FastifyInstance, fault: Fault): void {
  if (fault.kind === 'none' || fault.kind === 'crash-at-start') return;
  app.log.warn({ fault }, 'this build carries a deliberate fault');
  if (fault.kind === 'never-ready') {
    // /readyz lives on the operations app (its own port).
    ops.addHook('onRequest', async (request, reply) => {
      const path = request.url;
      if (path === '/readyz' || path.startsWith('/readyz?')) {
        return reply.status(503).send({ status: 'waiting for feature flags' });
      }
    });
    return;
  }
  let served = 0;
  app.addHook('onRequest', async (request) => {
    const path = request.url;
    if (!path.startsWith('/v1/')) return;
    if (fault.kind === 'slow') {
      await sleep(fault.delayMs);
      return;
    }
    // The n-th request fails when it completes another `percent` hundredth: exactly that share.
    served += 1;
    if (
      Math.floor((served * fault.percent) / 100) > Math.floor(((served - 1) * fault.percent) / 100)
    ) {
      throw new HttpProblem('internal', 'this build fails a share of requests (FAULT=errors)');
    }
  });
}
