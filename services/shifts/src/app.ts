import {
  createServiceApp,
  type AppConfig,
  type Database,
  type Lifecycle,
} from '@shiftops/service-kit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { shiftRoutes } from './routes.js';

export interface ShiftsAppDeps {
  config: AppConfig;
  db: Database;
  logger: FastifyBaseLogger;
  lifecycle?: Lifecycle;
}

/** The shifts API as a Fastify instance, without a listening socket: tests call inject() on it. */
export function buildShiftsApp(deps: ShiftsAppDeps): Promise<FastifyInstance> {
  return createServiceApp({
    ...deps,
    description:
      'Work shifts of the restaurant-scheduling product: who works when, where, in which position.',
    routes: shiftRoutes,
  });
}
