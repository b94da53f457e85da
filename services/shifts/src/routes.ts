import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  expectedVersion,
  IfMatchHeaders,
  invalid,
  problems,
  type Database,
} from '@shiftops/service-kit';
import { ShiftRepository } from './repository.js';
import {
  Shift,
  ShiftCreate,
  ShiftIdParams,
  ShiftListQuery,
  ShiftPage,
  ShiftPatch,
} from './schemas.js';

const isShiftCursor = (key: unknown[]): key is [string, string] =>
  key.length === 2 &&
  typeof key[0] === 'string' &&
  !Number.isNaN(Date.parse(key[0])) &&
  typeof key[1] === 'string' &&
  /^[0-9a-f-]{36}$/i.test(key[1]);

export const shiftRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const shifts = new ShiftRepository(db);
  const tags = ['shifts'];

  app.get(
    '/v1/shifts',
    {
      schema: {
        tags,
        summary: 'List shifts in start order, filtered by user, location, time window, published',
        querystring: ShiftListQuery,
        response: { 200: ShiftPage, ...problems(400, 503) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      if (filter.from && filter.to && Date.parse(filter.to) <= Date.parse(filter.from)) {
        throw invalid('to', 'must be after from');
      }
      const after = cursor === undefined ? undefined : decodeCursor(cursor, isShiftCursor);
      const page = await shifts.list({ ...filter, ...(after ? { after } : {}) });
      const last = page.shifts.at(-1);
      return {
        items: page.shifts,
        nextCursor: page.more && last ? encodeCursor([last.startsAt, last.id]) : null,
      };
    },
  );

  app.get(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        summary: 'Get a shift; the ETag header is its version',
        params: ShiftIdParams,
        response: { 200: Shift, ...problems(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { value, version } = await shifts.get(request.params.id);
      reply.header('etag', etagOf(version));
      return value;
    },
  );

  app.post(
    '/v1/shifts',
    {
      schema: {
        tags,
        summary: 'Create a shift; 409 when it overlaps another shift of the same user',
        body: ShiftCreate,
        response: { 201: Shift, ...problems(400, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { value, version } = await shifts.create(request.body);
      reply.header('etag', etagOf(version)).header('location', `/v1/shifts/${value.id}`);
      return reply.status(201).send(value);
    },
  );

  app.patch(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        summary:
          'Change some fields of a shift; send If-Match to fail with 412 on a concurrent change',
        params: ShiftIdParams,
        headers: IfMatchHeaders,
        body: ShiftPatch,
        response: { 200: Shift, ...problems(400, 404, 409, 412, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match']);
      const { value, version } = await shifts.update(request.params.id, request.body, expected);
      reply.header('etag', etagOf(version));
      return value;
    },
  );

  app.delete(
    '/v1/shifts/:id',
    {
      schema: {
        tags,
        summary: 'Delete a shift; send If-Match to delete only the version you read',
        params: ShiftIdParams,
        headers: IfMatchHeaders,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problems(400, 404, 412, 503),
        },
      },
    },
    async (request, reply) => {
      await shifts.delete(request.params.id, expectedVersion(request.headers['if-match']));
      return reply.status(204).send(null);
    },
  );
};
