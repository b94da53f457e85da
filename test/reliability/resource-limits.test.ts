import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
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
  before(async () => {
    database = await createTestDatabase(url!);
    svc = await startService('users', {
      DATABASE_URL: database.url,
      DRAIN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      REQUEST_TIMEOUT_MS: '2000',
    });
    port = Number(new URL(svc.url).port);
  });
  after(async () => {
    svc.child.kill('SIGTERM');
    await svc.exited;
    await database.drop();
  });

  test('a 20 MB body is refused with 413 without being buffered', async () => {
    const res = await http(`${svc.url}/v1/users`, {
      method: 'POST',
      body: { email: 'x'.repeat(20 * 1024 * 1024) },
    }).catch((e: Error) => e);
    // The server may answer 413 and close before the client has finished sending.
    if (res instanceof Error) assert.match(res.message, /EPIPE|ECONNRESET/);
    else assert.equal(res.status, 413);
  });

  test('deeply nested JSON and huge query strings are 4xx, never 5xx', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const nested = await raw(
      port,
      [
        `POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${deep.length}\r\nConnection: close\r\n\r\n${deep}`,
      ],
      0,
      5000,
    );
    assert.match(nested.response, /^HTTP\/1\.1 400/);
    const manyItems = Array.from({ length: 10_000 }, (_, i) => `locationId=${i}`).join('&');
    const many = await http(`${svc.url}/v1/users?${manyItems.slice(0, 15_000)}`);
    assert.equal(many.status, 400);
    assert.match(String(many.headers['content-type']), /problem\+json/);
    const tooLong = await http(`${svc.url}/v1/users?${manyItems}`).catch((e: Error) => e);
    assert.ok(
      tooLong instanceof Error || tooLong.status === 431 || tooLong.status === 414,
      'a request line over 16 KiB is refused',
    );
  });

  test('slow clients (slowloris) are cut off after REQUEST_TIMEOUT_MS while others are served', async () => {
    const before = rssMiB(svc.child.pid!);
    const headerBytes = 'GET /v1/users HTTP/1.1\r\nHost: x\r\nX-Slow: '
      .split('')
      .concat(Array(200).fill('a'));
    const slow = Array.from({ length: 50 }, () => raw(port, headerBytes, 100, 15_000));
    await sleep(500);
    const meanwhile = await http(`${svc.url}/livez`);
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
    for (let i = 0; i < 500; i++) {
      const res = await http(`${svc.url}/v1/users`, {
        method: 'POST',
        body: { email: 'a@b.co', firstName: 'x'.repeat(60_000) },
      });
      assert.ok(res.status === 400 || res.status === 413);
    }
    const grown = rssMiB(svc.child.pid!) - before;
    assert.ok(grown < 100, `RSS grew ${grown.toFixed(1)} MiB`);
  });
});
