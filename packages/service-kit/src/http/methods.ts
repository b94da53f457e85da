import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problems.js';

/** A route path as a matcher: `/v1/users/:id` matches `/v1/users/<one segment>`. */
function matcher(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * RFC 9110 §15.5.6 / §9.3.7: a known path with a method it does not have is a 405 with `Allow`,
 * not a 404, and OPTIONS on a known path answers 204 with `Allow`. Decided in onRequest, before
 * any body is read, so a body-carrying method (QUERY, PUT) gets its 405 rather than a 415.
 */
export function registerMethodHandling(app: FastifyInstance) {
  const paths = new Map<string, { match: RegExp; methods: Set<string> }>();
  app.addHook('onRoute', (route) => {
    const entry = paths.get(route.url) ?? { match: matcher(route.url), methods: new Set() };
    for (const m of [route.method].flat()) entry.methods.add(m);
    paths.set(route.url, entry);
  });

  const allowed = (path: string): string[] | undefined => {
    const methods = new Set<string>();
    for (const entry of paths.values()) {
      if (entry.match.test(path)) for (const m of entry.methods) methods.add(m);
    }
    return methods.size ? [...methods, 'OPTIONS'].sort() : undefined;
  };

  // Callback form: a matched route (every request but a 404) costs no promise here.
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split('?')[0]!;
    const allow = allowed(path);
    if (!allow) return done();
    if (request.method === 'OPTIONS') {
      // Answered here: fastify stops the chain when a callback hook sends instead of calling done.
      reply.status(204).header('allow', allow.join(', ')).send();
      return;
    }
    done(
      new HttpProblem(
        'method-not-allowed',
        `${request.method} is not allowed on ${path}; allowed: ${allow.join(', ')}`,
        {},
        { allow: allow.join(', ') },
      ),
    );
  });
}
