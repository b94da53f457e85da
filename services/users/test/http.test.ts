// HTTP semantics the service kit gives every service (RFC 9110), on both databases: conditional
// requests, 405 and OPTIONS with Allow, limits before routing, request ids.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { assertProblem, forEachDatabase } from '@shiftops/service-kit/testing';
import { usersService } from '../src/service.js';

let n = 0;
const newUser = () => ({
  email: `http${++n}.${Date.now()}@example.com`,
  firstName: 'Ada',
  lastName: 'Lovelace',
  role: 'employee',
  locationId: 1,
});

forEachDatabase(usersService, (t) => {
  const create = async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/users', payload: newUser() });
    assert.equal(res.statusCode, 201, res.body);
    return res.json() as { id: string };
  };
  const patch = (id: string, ifMatch: string) =>
    t.app.inject({
      method: 'PATCH',
      url: `/v1/users/${id}`,
      headers: { 'if-match': ifMatch },
      payload: { lastName: `L${++n}` },
    });

  test('If-None-Match with the current ETag (or *, or weak, or in a list) is a 304 with the ETag', async () => {
    const { id } = await create();
    for (const tag of ['"1"', 'W/"1"', '"7", "1"', '*']) {
      const res = await t.app.inject({ url: `/v1/users/${id}`, headers: { 'if-none-match': tag } });
      assert.equal(res.statusCode, 304, tag);
      assert.equal(res.body, '');
      assert.equal(res.headers.etag, '"1"');
    }
    const changed = await t.app.inject({
      url: `/v1/users/${id}`,
      headers: { 'if-none-match': '"0"' },
    });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json().id, id);
  });

  test('If-Match takes a list and *; a weak tag never matches; a miss is a 412', async () => {
    const { id } = await create();
    assert.equal((await patch(id, '"9", "1"')).statusCode, 200); // now version 2
    assert.equal((await patch(id, '*')).statusCode, 200); // now version 3
    assertProblem(await patch(id, 'W/"3"'), 412);
    assertProblem(await patch(id, '"1", "2"'), 412);
    assertProblem(await patch(id, '"3" "4"'), 412); // not a list: names no version
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/v1/users/${id}`,
      headers: { 'if-match': '"2", "3"' },
    });
    assert.equal(del.statusCode, 204);
  });

  test('a known path with another method is a 405 problem with Allow, before the body is read', async () => {
    const { id } = await create();
    for (const [method, url, allow] of [
      ['PUT', `/v1/users/${id}`, 'DELETE, GET, HEAD, OPTIONS, PATCH'],
      ['TRACE', '/v1/users', 'GET, HEAD, OPTIONS, POST'],
      ['QUERY', '/v1/users', 'GET, HEAD, OPTIONS, POST'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: { 'content-type': 'text/csv' },
        payload: 'a,b',
      });
      assertProblem(res, 405);
      assert.equal(res.headers.allow, allow, `${method} ${url}`);
    }
    assertProblem(await t.app.inject({ method: 'PUT', url: '/v1/nothing' }), 404);
  });

  test('OPTIONS on a known path is a 204 with Allow', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/v1/users' });
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers.allow, 'GET, HEAD, OPTIONS, POST');
  });

  test('an over-long request target is a 414 problem', async () => {
    assertProblem(await t.app.inject(`/v1/users?q=${'a'.repeat(9000)}`), 414);
  });

  test('a sane X-Request-Id is kept; an over-long or odd one is replaced, never echoed', async () => {
    const kept = await t.app.inject({ url: '/livez', headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    for (const given of ['x'.repeat(129), 'a b<script>']) {
      const res = await t.app.inject({ url: '/livez', headers: { 'x-request-id': given } });
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    }
  });

  test('the OpenAPI document: limit optional, response headers, If-Match format, links', async () => {
    const doc = (await t.app.inject('/openapi.json')).json();
    const list = doc.paths['/v1/users'].get;
    const limit = list.parameters.find((p: { name: string }) => p.name === 'limit');
    assert.equal(limit.required, false);
    assert.equal(limit.schema.default, 50);
    const created = doc.paths['/v1/users'].post.responses['201'];
    assert.ok(created.headers.etag && created.headers.location);
    assert.deepEqual(Object.keys(created.links).sort(), ['DeleteUser', 'GetUser', 'UpdateUser']);
    assert.equal(created.links.GetUser.operationId, 'getUser');
    assert.ok(doc.paths['/v1/users'].get.responses['503'].headers['retry-after']);
    const patchOp = doc.paths['/v1/users/{id}'].patch;
    const ifMatch = patchOp.parameters.find((p: { name: string }) => p.name === 'if-match');
    assert.match(ifMatch.description, /comma-separated list/);
    assert.match(ifMatch.description, /weak `W\/"3"` never matches/);
    assert.ok(doc.paths['/v1/users/{id}'].get.responses['304']);
  });
});

test('a request Node cannot parse still gets a problem+json answer', async () => {
  const { buildUsersApp } = await import('../src/app.js');
  const { openPGlite } = await import('@shiftops/service-kit');
  const { silentLogger, testAuthConfig } = await import('@shiftops/service-kit/testing');
  const db = await openPGlite();
  const app = await buildUsersApp({
    config: {
      service: usersService.identity,
      bodyLimitBytes: 65_536,
      gitCommit: 'test',
      auth: await testAuthConfig(),
    },
    db,
    logger: silentLogger,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  try {
    for (const [raw, status] of [
      ['GET /livez HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400],
      [`GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ] as const) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(raw));
        let data = '';
        socket.on('data', (d) => (data += d));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `));
      assert.match(answer, /content-type: application\/problem\+json/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
      assert.equal(body.status, status);
      assert.match(body.type, /^https:\/\/shiftops.dev\/problems\//);
    }
  } finally {
    await app.close();
    await db.close();
  }
});
