import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import { registerAuth } from './auth/plugin.js';
import type { Verifier } from './auth/verifier.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { clientErrorHandler, MAX_URL_LENGTH } from './http/client-errors.js';
import { registerErrorHandling } from './http/error-handler.js';
import { registerFault } from './http/fault.js';
import { registerMethodHandling } from './http/methods.js';
import { HttpProblem } from './http/problems.js';
import { registerHealth } from './http/health.js';
import { registerMetrics } from './http/metrics.js';
import { validatorCompiler } from './http/validation.js';
import { assertWellFormed } from './http/well-formed.js';
import { Lifecycle } from './lifecycle.js';
import { requestLoggerFactory } from './request-logger.js';

/** What the app itself reads from the configuration; the rest belongs to the process. */
export type AppConfig = Pick<Config, 'service' | 'bodyLimitBytes' | 'gitCommit' | 'auth'> &
  Partial<Pick<Config, 'requestTimeoutMs' | 'fault'>>;

export interface ServiceAppOptions {
  config: AppConfig;
  db: Database;
  logger: FastifyBaseLogger;
  description: string;
  /** The service's own routes, registered after the shared plugins. */
  routes: FastifyPluginAsync<{ db: Database }>;
  lifecycle?: Lifecycle;
  /** Overrides the verifier built from config.auth (tests use short key-refresh cooldowns). */
  verifier?: Verifier;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Builds the Fastify app both services share: errors, validation, authentication, OpenAPI, and
 * beside it `app.ops`, the operations app (/livez, /readyz, /metrics, /version) that listens on
 * its own port, reachable only inside the cluster (podinfo does the same). Closing the app
 * closes both.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<FastifyInstance> {
  const { config, db, logger } = options;
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: config.bodyLimitBytes,
    // Keep a caller's request id when it is sane, so one id follows a request across services;
    // replace one that is too long or has odd characters (it is echoed and logged). Fastify would
    // take the header as is if it were named here, so genReqId reads it instead.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // A slow or stalled client (slowloris) cannot hold a socket and its memory for long: the
    // whole request must arrive within requestTimeoutMs, checked every second rather than at
    // Node's default of every 30 s.
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    http: {
      headersTimeout: Math.min(config.requestTimeoutMs ?? 30_000, 10_000),
      connectionsCheckingInterval: 1000,
    },
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  // JSON only: any other body type is a 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  app.decorate('lifecycle', lifecycle);
  // The hooks that do no I/O take fastify's callback form: no promise and microtask per request
  // and hook, which the benchmark's CPU profiles showed on every request.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  // The process listens before migrations finish (so liveness holds while the database is still
  // coming up); until then only the operational endpoints answer.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) {
      return done(
        new HttpProblem(
          'uri-too-long',
          `the request target is ${request.url.length} characters; at most ${MAX_URL_LENGTH} are served`,
        ),
      );
    }
    if (lifecycle.starting && request.url.startsWith('/v1/')) {
      return done(
        new HttpProblem(
          'service-unavailable',
          'the service is starting; retry shortly',
          {},
          { 'retry-after': '2' },
        ),
      );
    }
    done();
  });

  registerErrorHandling(app);
  // Probes and scrapes every few seconds: only warnings and errors of the ops app are logged.
  const ops = Fastify({ loggerInstance: logger.child({}, { level: 'warn' }) });
  registerErrorHandling(ops);
  registerFault(app, ops, config.fault ?? { kind: 'none' });
  registerMethodHandling(app);
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      assertWellFormed(request.body);
    } catch (err) {
      return done(err as Error);
    }
    done();
  });
  // OpenAPI links are declared in a route's config (typed below); @fastify/swagger reads them from
  // the route itself, so copy them there before its own onRoute hook sees the route.
  app.addHook('onRoute', (route) => {
    const links = route.config?.links;
    if (links) Object.assign(route, { links });
  });
  const verifier = registerAuth(app, config.auth, options.verifier);
  await app.register(swagger, {
    // Name components after their schema $id (User, Problem) rather than def-0, def-1.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${config.service.name} API`,
        version: config.service.version,
        description: options.description,
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              'OAuth 2.0 access token (RFC 6750) from the configured issuer, with the claims ' +
              'sub or user_id (the caller), role (employee, manager, admin) and locations',
          },
        },
      },
      security: config.auth.mode === 'enabled' ? [{ bearerAuth: [] }] : [],
    },
  });
  registerHealth(ops, db, lifecycle, async () => verifier?.unavailable(), {
    service: config.service.name,
    version: config.service.version,
    commit: config.gitCommit,
  });
  registerMetrics(app, ops, db, config.service.name);
  app.decorate('ops', ops);
  app.addHook('onReady', async () => {
    await ops.ready();
  });
  // Both listeners stop accepting together, when close() starts: in-flight API requests finish
  // after that (onClose would wait for them, leaving probes answered by a closing process).
  app.addHook('preClose', async () => {
    await ops.close();
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(options.routes, { db });
  return app;
}

/** OpenAPI link objects by response status: how a response's values feed other operations. */
export type RouteLinks = Record<
  number,
  Record<string, { operationId: string; parameters: Record<string, string> }>
>;

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
    /** The operations endpoints, served on their own port (config.opsPort). */
    ops: FastifyInstance;
  }
  interface FastifyContextConfig {
    links?: RouteLinks;
  }
}
