import {
  createServiceApp,
  type AppConfig,
  type Database,
  type Lifecycle,
} from '@shiftops/service-kit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { userRoutes } from './routes.js';

export interface UsersAppDeps {
  config: AppConfig;
  db: Database;
  logger: FastifyBaseLogger;
  lifecycle?: Lifecycle;
}

/** The users API as a Fastify instance, without a listening socket: tests call inject() on it. */
export function buildUsersApp(deps: UsersAppDeps): Promise<FastifyInstance> {
  return createServiceApp({
    ...deps,
    description: 'Users of the restaurant-scheduling product: who works where, in which role.',
    routes: userRoutes,
  });
}
