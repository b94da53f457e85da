import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DEFAULT_LIMIT,
  ETagHeader,
  etagOf,
  expectedVersions,
  idCursor,
  IdempotencyKeyHeaders,
  IdempotencyStore,
  IfMatchHeaders,
  IfNoneMatchHeaders,
  json,
  LocationHeader,
  NotModified,
  notModified,
  problems,
  type Database,
} from '@shiftops/service-kit';
import { UserRepository } from './repository.js';
import { User, UserCreate, UserIdParams, UserListQuery, UserPage, UserPatch } from './schemas.js';

// Links let clients (and stateful testers) go from a created user to the operations on it.
const onCreated = {
  GetUser: { operationId: 'getUser', parameters: { id: '$response.body#/id' } },
  UpdateUser: {
    operationId: 'updateUser',
    parameters: { id: '$response.body#/id', 'header.if-match': '$response.header.ETag' },
  },
  DeleteUser: {
    operationId: 'deleteUser',
    parameters: { id: '$response.body#/id', 'header.if-match': '$response.header.ETag' },
  },
};

export const userRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  const users = new UserRepository(db);
  const idempotency = new IdempotencyStore(db, 'users');
  const tags = ['users'];

  app.get(
    '/v1/users',
    {
      schema: {
        tags,
        operationId: 'listUsers',
        summary: 'List users, filtered, one keyset page at a time',
        querystring: UserListQuery,
        response: { 200: UserPage, ...problems(400, 503) },
      },
    },
    async (request) => {
      const { cursor, limit = DEFAULT_LIMIT, ...filter } = request.query;
      const page = await users.list({
        ...filter,
        limit,
        ...(cursor === undefined ? {} : { afterId: idCursor.decode(cursor) }),
      });
      const last = page.users.at(-1);
      return { items: page.users, nextCursor: page.more && last ? idCursor.encode(last.id) : null };
    },
  );

  app.get(
    '/v1/users/:id',
    {
      schema: {
        tags,
        operationId: 'getUser',
        summary: 'Get a user; the ETag header is its version',
        params: UserIdParams,
        headers: IfNoneMatchHeaders,
        response: {
          200: json(User, 'The user', ETagHeader),
          304: NotModified,
          ...problems(400, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { value, version } = await users.get(request.params.id);
      reply.header('etag', etagOf(version));
      if (notModified(request.headers['if-none-match'], version)) return reply.status(304).send();
      return value;
    },
  );

  app.post(
    '/v1/users',
    {
      schema: {
        tags,
        operationId: 'createUser',
        summary: 'Create a user',
        headers: IdempotencyKeyHeaders,
        body: UserCreate,
        response: {
          201: json(User, 'Created', { ...ETagHeader, ...LocationHeader }),
          ...problems(400, 409, 413, 415, 422, 503),
        },
      },
      config: { links: { 201: onCreated } },
    },
    async (request, reply) => {
      const result = await idempotency.run(
        request.headers['idempotency-key'],
        { method: 'POST', path: '/v1/users', body: request.body },
        async () => {
          const { value, version } = await users.create(request.body);
          const headers = { etag: etagOf(version), location: `/v1/users/${value.id}` };
          return { status: 201, headers, body: value };
        },
      );
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      // Only successful creates are stored, so a replay is a 201 too.
      return reply.status(201).headers(result.headers).send(result.body);
    },
  );

  app.patch(
    '/v1/users/:id',
    {
      schema: {
        tags,
        operationId: 'updateUser',
        summary:
          'Change some fields of a user; send If-Match to fail with 412 on a concurrent change',
        params: UserIdParams,
        headers: IfMatchHeaders,
        body: UserPatch,
        response: {
          200: json(User, 'The changed user', ETagHeader),
          ...problems(400, 404, 409, 412, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const expected = expectedVersions(request.headers['if-match']);
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
        operationId: 'deleteUser',
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
      await users.delete(request.params.id, expectedVersions(request.headers['if-match']));
      return reply.status(204).send(null);
    },
  );
};
