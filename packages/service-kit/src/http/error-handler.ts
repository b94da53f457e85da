import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/database.js';
import { HttpProblem, type ProblemDetails } from './problems.js';
import { patternMessages } from './schemas.js';

export const RETRY_AFTER_SECONDS = 2;

function send(reply: FastifyReply, request: FastifyRequest, p: HttpProblem) {
  for (const [name, value] of Object.entries(p.headers)) reply.header(name, value);
  const body: ProblemDetails = { ...p.problem, instance: request.url.split('?')[0] };
  return reply.status(p.status).type('application/problem+json').send(body);
}

interface AjvLikeError {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the field an Ajv error is about, as a dotted path under body/query/params. */
function fieldOf(e: AjvLikeError, context: string): string {
  const path = e.instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = e.params['missingProperty'] ?? e.params['additionalProperty'];
  if (typeof extra === 'string') path.push(extra);
  const where = context === 'querystring' ? 'query' : context;
  return path.length ? path.join('.') : where;
}

function messageOf(e: AjvLikeError): string {
  if (typeof e.params['additionalProperty'] === 'string') return 'is not an allowed field';
  if (typeof e.params['missingProperty'] === 'string') return 'is required';
  const pattern = e.params['pattern'];
  if (typeof pattern === 'string') return patternMessages.get(pattern) ?? 'has an invalid form';
  if (Array.isArray(e.params['allowedValues']))
    return `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
  return e.message ?? 'is invalid';
}

export function toProblem(error: FastifyError | Error, log: FastifyRequest['log']): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const fe = error as FastifyError;
  if (fe.validation) {
    const errors = (fe.validation as AjvLikeError[]).map((e) => ({
      field: fieldOf(e, fe.validationContext ?? 'body'),
      message: messageOf(e),
    }));
    const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ');
    return new HttpProblem('validation', detail, { errors });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload-too-large', fe.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem('unsupported-media-type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem('invalid-json', fe.message);
  }
  if (error instanceof SyntaxError && fe.statusCode === 400) {
    return new HttpProblem('invalid-json', `body is not valid JSON: ${error.message}`);
  }
  if (isDatabaseUnavailable(error)) {
    log.warn({ err: error.message }, 'database unavailable');
    return new HttpProblem(
      'service-unavailable',
      'the database is unavailable; retry shortly',
      {},
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const kind =
      fe.statusCode === 413
        ? 'payload-too-large'
        : fe.statusCode === 415
          ? 'unsupported-media-type'
          : 'validation';
    return new HttpProblem(kind, fe.message);
  }
  log.error({ err: error }, 'unhandled error');
  return new HttpProblem('internal', 'an unexpected error occurred; it has been logged');
}

/** Every error leaves as application/problem+json; nothing a client sends can produce a bare 500. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    send(reply, request, toProblem(error, request.log)),
  );
  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      request,
      new HttpProblem('not-found', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
