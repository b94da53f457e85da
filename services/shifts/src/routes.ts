import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import {
  DEFAULT_LIMIT,
  ETagHeader,
  etagOf,
  expectedVersions,
  forbidden,
  IdempotencyKeyHeaders,
  IdempotencyStore,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  json,
  LocationHeader,
  NotModified,
  notModified,
  problems,
  timeIdCursor,
  unprocessable,
  type Database,
} from '@shiftops/service-kit';
import { readScope, refusal, writeScope } from './access.js';
import { ShiftRepository } from './repository.js';
import {
  Shift,
  ShiftCreate,
  ShiftIdParams,
  ShiftListQuery,
  ShiftPage,
  ShiftPatch,
} from './schemas.js';

// Links let clients (and stateful testers) go from a created shift to the operations on it.
const onCreated = {
  GetShift: { operationId: 'getShift', parameters: { id: '$response.body#/id' } },
  UpdateShift: {
    operationId: 'updateShift',
    parameters: { id: '$response.body#/id', 'header.if-match': '$response.header.ETag' },
  },
  DeleteShift: {
    operationId: 'deleteShift',
    parameters: { id: '$response.body#/id', 'header.if-match': '$response.header.ETag' },
  },
};

export const shiftRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const shifts = new ShiftRepository(db);
  const idempotency = new IdempotencyStore(db, 'shifts');
  const tags = ['shifts'];
  const security = [{ bearerAuth: [] }];
  /** The caller's read and write scopes; 403 for a caller who may change no shift at all. */
  const writable = (request: FastifyRequest) => {
    const write = writeScope(request.principal);
    if (!write) throw forbidden(refusal(request.principal, {}) ?? 'you may not change shifts');
    return { read: readScope(request.principal), write };
  };

  app.get(
    '/v1/shifts',
    {
      schema: {
        tags,
        operationId: 'listShifts',
        security,
        summary: 'List shifts in start order, filtered by user, location, time window, published',
        querystring: ShiftListQuery,
        response: { 200: ShiftPage, ...problems(400, 401, 403, 422, 503) },
      },
    },
    async (request) => {
      const { cursor, limit = DEFAULT_LIMIT, ...filter } = request.query;
      if (filter.from && filter.to && Date.parse(filter.to) <= Date.parse(filter.from)) {
        throw unprocessable('to', 'must be after from');
      }
      const page = await shifts.list(
        {
          ...filter,
          limit,
          ...(cursor === undefined ? {} : { after: timeIdCursor.decode(cursor) }),
        },
        readScope(request.principal),
      );
      const last = page.shifts.at(-1);
      return {
        items: page.shifts,
        nextCursor: page.more && last ? timeIdCursor.encode(last.startsAt, last.id) : null,
      };
    },
  );

  app.get(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        operationId: 'getShift',
        security,
        summary: 'Get a shift; the ETag header is its version',
        params: ShiftIdParams,
        headers: IfNoneMatchHeaders,
        response: {
          200: json(Shift, 'The shift', ETagHeader),
          304: NotModified,
          ...problems(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { value, version } = await shifts.get(request.params.id, readScope(request.principal));
      reply.header('etag', etagOf(version));
      if (notModified(request.headers['if-none-match'], version)) return reply.status(304).send();
      return value;
    },
  );

  app.post(
    '/v1/shifts',
    {
      schema: {
        tags,
        operationId: 'createShift',
        security,
        summary: 'Create a shift; 409 when it overlaps another shift of the same user',
        headers: IdempotencyKeyHeaders,
        body: ShiftCreate,
        response: {
          201: json(Shift, 'Created', { ...ETagHeader, ...LocationHeader }),
          ...problems(400, 401, 403, 409, 413, 415, 422, 503),
        },
      },
      config: { links: { 201: onCreated } },
    },
    async (request, reply) => {
      // Refused before the key is claimed: only successful creates are stored.
      const refused = refusal(request.principal, request.body);
      if (refused) throw forbidden(refused);
      const result = await idempotency.run(
        request.headers['idempotency-key'],
        { caller: request.principal, method: 'POST', path: '/v1/shifts', body: request.body },
        async (tx) => {
          const { value, version } = await new ShiftRepository(tx).create(request.body);
          const headers = { etag: etagOf(version), location: `/v1/shifts/${value.id}` };
          return { status: 201, headers, body: value };
        },
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      // Only successful creates are stored, so a replay is a 201 too.
      return reply.status(201).headers(result.headers).send(result.body);
    },
  );

  app.patch(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        operationId: 'updateShift',
        security,
        summary:
          'Change some fields of a shift; send If-Match to fail with 412 on a concurrent change',
        params: ShiftIdParams,
        headers: IfMatchHeaders,
        body: ShiftPatch,
        response: {
          200: json(Shift, 'The changed shift', ETagHeader),
          ...problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const scope = writable(request);
      const refused = refusal(request.principal, request.body);
      if (refused) throw forbidden(refused);
      const expected = expectedVersions(request.headers['if-match']);
      const { value, version } = await shifts.update(
        request.params.id,
        request.body,
        scope,
        expected,
      );
      reply.header('etag', etagOf(version));
      return value;
    },
  );

  app.delete(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        operationId: 'deleteShift',
        security,
        summary: 'Delete a shift; send If-Match to delete only the version you read',
        params: ShiftIdParams,
        headers: IfMatchHeaders,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problems(400, 401, 403, 404, 412, 503),
        },
      },
    },
    async (request, reply) => {
      const scope = writable(request);
      await shifts.delete(request.params.id, scope, expectedVersions(request.headers['if-match']));
      return reply.status(204).send(null);
    },
  );
};
