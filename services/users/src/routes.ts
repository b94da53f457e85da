import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import {
  DEFAULT_LIMIT,
  ETagHeader,
  etagOf,
  expectedVersions,
  forbidden,
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
import { readScope, refusal, writeScope } from './access.js';
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
  const security = [{ bearerAuth: [] }];
  /** The caller's read and write scopes; 403 for a caller who may change no user at all. */
  const writable = (request: FastifyRequest) => {
    const write = writeScope(request.principal);
    if (!write) throw forbidden(refusal(request.principal, {}) ?? 'you may not change users');
    return { read: readScope(request.principal), write };
  };

  app.get(
    '/v1/users',
    {
      schema: {
        tags,
        operationId: 'listUsers',
        security,
        summary: 'List users, filtered, one keyset page at a time',
        querystring: UserListQuery,
        response: { 200: UserPage, ...problems(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { cursor, limit = DEFAULT_LIMIT, ...filter } = request.query;
      const page = await users.list(
        {
          ...filter,
          limit,
          ...(cursor === undefined ? {} : { afterId: idCursor.decode(cursor) }),
        },
        readScope(request.principal),
      );
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
        security,
        summary: 'Get a user; the ETag header is its version',
        params: UserIdParams,
        headers: IfNoneMatchHeaders,
        response: {
          200: json(User, 'The user', ETagHeader),
          304: NotModified,
          ...problems(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { value, version } = await users.get(request.params.id, readScope(request.principal));
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
        security,
        summary: 'Create a user',
        headers: IdempotencyKeyHeaders,
        body: UserCreate,
        response: {
          201: json(User, 'Created', { ...ETagHeader, ...LocationHeader }),
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
        { caller: request.principal, method: 'POST', path: '/v1/users', body: request.body },
        async (tx) => {
          const { value, version } = await new UserRepository(tx).create(request.body);
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
        security,
        summary:
          'Change some fields of a user; send If-Match to fail with 412 on a concurrent change',
        params: UserIdParams,
        headers: IfMatchHeaders,
        body: UserPatch,
        response: {
          200: json(User, 'The changed user', ETagHeader),
          ...problems(400, 401, 403, 404, 409, 412, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const scope = writable(request);
      const refused = refusal(request.principal, request.body);
      if (refused) throw forbidden(refused);
      const expected = expectedVersions(request.headers['if-match']);
      const { value, version } = await users.update(
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
    '/v1/users/:id',
    {
      schema: {
        tags,
        operationId: 'deleteUser',
        security,
        summary: 'Delete a user; send If-Match to delete only the version you read',
        params: UserIdParams,
        headers: IfMatchHeaders,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problems(400, 401, 403, 404, 412, 503),
        },
      },
    },
    async (request, reply) => {
      const scope = writable(request);
      await users.delete(request.params.id, scope, expectedVersions(request.headers['if-match']));
      return reply.status(204).send(null);
    },
  );
};
