// The lazy request logger: the same lines as fastify's own per-request child, and no child made
// for a request that logs nothing at an enabled level.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { pino } from 'pino';
import { requestLoggerFactory } from '../src/request-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        // Time and pid differ between runs; the rest must not.
        const {
          time: _time,
          pid: _pid,
          hostname: _host,
          responseTime: _rt,
          ...rest
        } = JSON.parse(line) as Record<string, unknown>;
        lines.push(rest);
      }
      done();
    },
  });
  const logger = pino({ level }, stream);
  // Counts the request children (bound to a request id): one per request with fastify's factory.
  let children = 0;
  const child = logger.child;
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    if ('reqId' in args[0]) children += 1;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

async function serve(level: string, factory?: FastifyServerOptions['childLoggerFactory']) {
  const c = capture(level);
  let id = 0;
  const app = Fastify({
    loggerInstance: c.logger,
    genReqId: () => `req-${++id}`,
    ...(factory ? { childLoggerFactory: factory } : {}),
  });
  app.get('/quiet', async () => ({}));
  app.get('/info', async (request) => {
    request.log.info({ step: 1 }, 'at info');
    return {};
  });
  app.get('/warn', async (request) => {
    request.log.warn('at %s', 'warn');
    request.log.child({ part: 'inner' }).error('from a child');
    return {};
  });
  app.get('/debug', { logLevel: 'debug' }, async (request) => {
    request.log.debug('at debug');
    return {};
  });
  app.get('/fails', async () => {
    throw new Error('boom');
  });
  for (const path of ['/quiet', '/info', '/warn', '/debug', '/fails', '/missing']) {
    await app.inject(path);
  }
  await app.close();
  return c;
}

for (const level of ['trace', 'info', 'warn', 'error', 'silent']) {
  test(`at ${level}, the lines are those of fastify's own request logger`, async () => {
    const ours = await serve(level, requestLoggerFactory);
    const theirs = await serve(level);
    assert.deepEqual(ours.lines, theirs.lines);
    if (level === 'warn') {
      assert.ok(
        ours.lines.some((l) => l['reqId'] === 'req-3' && l['msg'] === 'at warn'),
        'a warning carries its request id',
      );
      assert.ok(ours.lines.some((l) => l['reqId'] === 'req-3' && l['part'] === 'inner'));
    }
  });
}

test('at warn, only the requests that log a warning, an error or at their own level get a child', async () => {
  const ours = await serve('warn', requestLoggerFactory);
  const theirs = await serve('warn');
  assert.equal(theirs.children(), 6, 'fastify makes one child per request');
  // /warn (its warning and its inner child), /debug (its own level), /fails (the error log).
  assert.equal(ours.children(), 3);
  assert.ok(ours.lines.some((l) => l['reqId'] === 'req-4' && l['msg'] === 'at debug'));
});
