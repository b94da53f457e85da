// No personal data in logs: what a service logs for a request and for a database error that
// quotes the row's values.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import Fastify from 'fastify';
import { pino } from 'pino';
import { maskQuery, serializers } from '../src/logger.js';
import { openPGlite } from '../src/index.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info', serializers }, stream), text: () => lines.join('') };
}

test('query values are masked, names kept', () => {
  assert.equal(maskQuery('/v1/users?q=ada@example.com&limit=5'), '/v1/users?q=…&limit=…');
  assert.equal(maskQuery('/v1/users/42'), '/v1/users/42');
});

test('request logs and a real unique-violation error carry no email', async () => {
  const { logger, text } = capture();
  const db = await openPGlite();
  await db.exec('CREATE TABLE people (email text, CONSTRAINT people_email_key UNIQUE (email))');
  await db.query('INSERT INTO people VALUES ($1)', ['ada@example.com']);
  const app = Fastify({ loggerInstance: logger });
  app.get('/people', async (request) => {
    try {
      await db.query('INSERT INTO people VALUES ($1)', ['ada@example.com']);
    } catch (err) {
      request.log.error({ err }, 'unhandled error');
    }
    try {
      await db.query('SELECT $1::uuid', ['grace@example.com']);
    } catch (err) {
      request.log.error({ err }, 'unhandled error');
    }
    return {};
  });
  await app.inject('/people?q=ada@example.com');
  await app.close();
  await db.close();
  const logged = text();
  assert.match(logged, /"code":"23505"/, 'the error is still logged, with its SQLSTATE');
  assert.match(logged, /people_email_key/, 'and the constraint it broke');
  assert.match(logged, /\/people\?q=…/);
  assert.doesNotMatch(logged, /ada@example\.com|grace@example\.com/);
});
