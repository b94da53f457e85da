import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  decodeCursor,
  encodeCursor,
  etagOf,
  expectedVersion,
  IfMatchHeaders,
  problems,
  type Database,
} from '@shiftops/service-kit';
import { UserRepository } from './repository.js';
import { User, UserCreate, UserIdParams, UserListQuery, UserPage, UserPatch } from './schemas.js';

const isIdCursor = (key: unknown[]): key is [string] =>
  key.length === 1 && typeof key[0] === 'string' && /^[0-9a-f-]{36}$/i.test(key[0]);

export const userRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const users = new UserRepository(db);
  const tags = ['users'];

  app.get(
    '/v1/users',
    {
      schema: {
        tags,
        summary: 'List users, filtered, one keyset page at a time',
        querystring: UserListQuery,
        response: { 200: UserPage, ...problems(400, 503) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const afterId = cursor === undefined ? undefined : decodeCursor(cursor, isIdCursor)[0];
      const page = await users.list({ ...filter, ...(afterId ? { afterId } : {}) });
      const last = page.users.at(-1);
      return { items: page.users, nextCursor: page.more && last ? encodeCursor([last.id]) : null };
    },
  );

  app.get(
    '/v1/users/:id',
    {
      schema: {
        tags,
        summary: 'Get a user; the ETag header is its version',
        params: UserIdParams,
        response: { 200: User, ...problems(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { value, version } = await users.get(request.params.id);
      reply.header('etag', etagOf(version));
      return value;
    },
  );

  app.post(
    '/v1/users',
    {
      schema: {
        tags,
        summary: 'Create a user',
        body: UserCreate,
        response: { 201: User, ...problems(400, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { value, version } = await users.create(request.body);
      reply.header('etag', etagOf(version)).header('location', `/v1/users/${value.id}`);
      return reply.status(201).send(value);
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      schema: {
        tags,
        summary:
          'Change some fields of a user; send If-Match to fail with 412 on a concurrent change',
        params: UserIdParams,
        headers: IfMatchHeaders,
        body: UserPatch,
        response: { 200: User, ...problems(400, 404, 409, 412, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const expected = expectedVersion(request.headers['if-match']);
      const { value, version } = await users.update(request.params.id, request.body, expected);
      reply.header('etag', etagOf(version));
      return value;
    },
  );

  app.delete(
    '/v1/users/:id',
    {
      schema: {
        tags,
        summary: 'Delete a user; send If-Match to delete only the version you read',
        params: UserIdParams,
        headers: IfMatchHeaders,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problems(400, 404, 412, 503),
        },
      },
    },
    async (request, reply) => {
      await users.delete(request.params.id, expectedVersion(request.headers['if-match']));
      return reply.status(204).send(null);
    },
  );
};
