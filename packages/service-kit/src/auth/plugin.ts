import type { FastifyInstance } from 'fastify';
import type { AuthConfig } from '../config.js';
import type { Principal } from './principal.js';
import { ANONYMOUS_ADMIN, createVerifier, type Verifier } from './verifier.js';

/**
 * Every /v1/ request carries a verified bearer token before its body is read; the principal
 * lands on request.principal for the service's rules. The token itself is never logged (the
 * logger redacts the Authorization header and nothing here logs claims).
 */
export function registerAuth(
  app: FastifyInstance,
  config: AuthConfig,
  verifier: Verifier | undefined = config.mode === 'enabled' ? createVerifier(config) : undefined,
): Verifier | undefined {
  app.decorateRequest('principal', null as unknown as Principal);
  // Callback form, so a token already verified (the verifier's cache) costs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!request.url.startsWith('/v1/') || request.method === 'OPTIONS') return done();
    if (!verifier) {
      request.principal = ANONYMOUS_ADMIN;
      return done();
    }
    const cached = verifier.cached(request.headers.authorization);
    if (cached) {
      request.principal = cached;
      return done();
    }
    verifier.authenticate(request.headers.authorization).then((principal) => {
      request.principal = principal;
      done();
    }, done);
  });
  return verifier;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller of a /v1/ request. */
    principal: Principal;
  }
}
