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
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/v1/') || request.method === 'OPTIONS') return;
    request.principal = verifier
      ? await verifier.authenticate(request.headers.authorization)
      : ANONYMOUS_ADMIN;
  });
  return verifier;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller of a /v1/ request. */
    principal: Principal;
  }
}
