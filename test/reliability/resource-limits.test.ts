import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bearer,
  createTestDatabase,
  http,
  postgresUrl,
  startService,
  type RunningService,
} from '@shiftops/service-kit/testing';

const url = postgresUrl();
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Sends raw bytes on a new connection; resolves with what the server answered (or how it closed). */
function raw(
  port: number,
  chunks: string[],
  gapMs: number,
  timeoutMs: number,
): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (response += d));
    const done = () => resolve({ response, closedAfterMs: Date.now() - t0 });
    socket.on('close', done);
    socket.on('error', () => undefined);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('close', () => clearTimeout(timer));
    void (async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        await sleep(gapMs);
      }
    })();
  });
}

describe('resource limits', { skip: url ? false : 'no PostgreSQL server' }, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: RunningService;
  let port: number;
  let auth: { authorization: string };
  before(async () => {
    database = await createTestDatabase(url!);
    auth = await bearer();
    svc = await startService('users', {
      DATABASE_URL: database.url,
      DRAIN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      REQUEST_TIMEOUT_MS: '2000',
    });
    port = Number(new URL(svc.url).port);
  });
  /** A crashed server also closes connections: every refusal must leave the process running. */
  const assertAlive = () =>
    assert.equal(svc.child.exitCode, null, `the service exited:\n${svc.logs()}`);
  after(async () => {
    svc.child.kill('SIGTERM');
    await svc.exited;
    await database.drop();
  });

  test('a 20 MB body is refused with 413 before it is read, and the server lives on', async () => {
    const before = rssMiB(svc.child.pid!);
    // Announce 20 MB but send only the first 64 KiB: the answer must come without the rest, so
    // it was decided on Content-Length, not on a buffered body.
    const size = 20 * 1024 * 1024;
    const res = await raw(
      port,
      [
        `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
        `{"email":"${'x'.repeat(65_536)}`,
      ],
      0,
      5000,
    );
    assert.match(res.response, /^HTTP\/1\.1 413 /);
    assert.match(res.response, /content-type: application\/problem\+json/i);
    assert.ok(res.closedAfterMs < 5000, 'answered without waiting for the rest of the body');
    assertAlive();
    assert.equal((await http(`${svc.opsUrl}/livez`)).status, 200);
    const grown = rssMiB(svc.child.pid!) - before;
    assert.ok(grown < 20, `the body was not buffered (RSS grew ${grown.toFixed(1)} MiB)`);
  });

  test('deeply nested JSON and huge query strings are 4xx, never 5xx', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const nested = await raw(
      port,
      [
        `POST /v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${deep.length}\r\nConnection: close\r\n\r\n${deep}`,
      ],
      0,
      5000,
    );
    assert.match(nested.response, /^HTTP\/1\.1 400/);
    const manyItems = Array.from({ length: 10_000 }, (_, i) => `locationId=${i}`).join('&');
    // A 15,000-character target is over the service's 8 KiB limit: 414, before any parsing.
    const many = await http(`${svc.url}/v1/users?${manyItems.slice(0, 15_000)}`, { headers: auth });
    assert.equal(many.status, 414);
    const repeated = await http(`${svc.url}/v1/users?${manyItems.slice(0, 8000)}`, {
      headers: auth,
    });
    assert.equal(repeated.status, 400);
    assert.match(String(repeated.headers['content-type']), /problem\+json/);
    assert.match(String(many.headers['content-type']), /problem\+json/);
    // Over Node's 16 KiB header limit: refused by the HTTP parser, before routing.
    const tooLong = await raw(
      port,
      [`GET /v1/users?${manyItems} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
      0,
      5000,
    );
    assert.match(
      tooLong.response,
      /^HTTP\/1\.1 (414|431) /,
      'a request line over 16 KiB is refused',
    );
    assertAlive();
    assert.equal((await http(`${svc.opsUrl}/livez`)).status, 200);
  });

  test('slow clients (slowloris) are cut off after REQUEST_TIMEOUT_MS while others are served', async () => {
    const before = rssMiB(svc.child.pid!);
    const headerBytes = 'GET /v1/users HTTP/1.1\r\nHost: x\r\nX-Slow: '
      .split('')
      .concat(Array(200).fill('a'));
    const slow = Array.from({ length: 50 }, () => raw(port, headerBytes, 100, 15_000));
    await sleep(500);
    const meanwhile = await http(`${svc.opsUrl}/livez`);
    assert.equal(meanwhile.status, 200, 'served while 50 slow clients hold connections');
    const closed = await Promise.all(slow);
    for (const c of closed)
      assert.ok(c.closedAfterMs < 6000, `slow connection closed after ${c.closedAfterMs} ms`);
    const grown = rssMiB(svc.child.pid!) - before;
    console.log(
      `slowloris: 50 connections closed after ${Math.max(...closed.map((c) => c.closedAfterMs))} ms at most; RSS grew ${grown.toFixed(1)} MiB`,
    );
    assert.ok(grown < 100, `memory stays bounded (grew ${grown.toFixed(1)} MiB)`);
  });

  test('memory stays bounded after 500 oversized and malformed requests', async () => {
    const before = rssMiB(svc.child.pid!);
    // Each kind with the status it must get: over BODY_LIMIT_BYTES (64 KiB), JSON that does not
    // parse, and a well-formed body with a field over its maximum length.
    const kinds = [
      { status: 413, body: `{"email":"a@b.co","firstName":"${'x'.repeat(70_000)}"}` },
      { status: 400, body: '{"email":"a@b.co","firstName":' },
      { status: 400, body: `{"email":"a@b.co","firstName":"${'x'.repeat(60_000)}"}` },
    ];
    for (let i = 0; i < 500; i++) {
      const kind = kinds[i % kinds.length]!;
      const res = await http(`${svc.url}/v1/users`, {
        method: 'POST',
        rawBody: kind.body,
        headers: { ...auth, 'content-type': 'application/json' },
      });
      assert.equal(res.status, kind.status, `request ${i}: ${res.body.slice(0, 200)}`);
      assert.match(String(res.headers['content-type']), /problem\+json/);
    }
    assertAlive();
    const grown = rssMiB(svc.child.pid!) - before;
    assert.ok(grown < 100, `RSS grew ${grown.toFixed(1)} MiB`);
  });
});
