import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Lifecycle, migrate, type Database, type ServiceDefinition } from '@shiftops/service-kit';
import {
  bearer,
  createTestDatabase,
  openTestPostgres,
  postgresUrl,
  silentLogger,
  testAuthConfig,
} from '@shiftops/service-kit/testing';
import { shiftsService } from '../../services/shifts/src/service.js';
import { usersService } from '../../services/users/src/service.js';
import { startFloor } from '../baselines/floor.js';
import { startTypical } from '../baselines/typical.js';
import { seededUserId } from '../load.js';

const url = postgresUrl();

describe(
  'the baselines answer the benchmark requests as our services do',
  { skip: url ? false : 'no PostgreSQL server' },
  () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Database;
    const ours: Record<string, FastifyInstance> = {};
    const baselines: Record<string, Server> = {};
    let week: Date;

    before(async () => {
      database = await createTestDatabase(url!);
      db = openTestPostgres(database.url);
      for (const svc of [usersService, shiftsService] as ServiceDefinition[]) {
        await migrate(db, svc.identity.name, svc.migrationsDir);
        await svc.seed(db, 300);
        ours[svc.identity.name] = await svc.buildApp({
          config: {
            service: svc.identity,
            bodyLimitBytes: 65_536,
            gitCommit: 'test',
            auth: await testAuthConfig(),
          },
          db,
          logger: silentLogger,
          lifecycle: new Lifecycle(),
        });
      }
      const options = {
        databaseUrl: database.url,
        port: 0,
        poolMax: 3,
        statementTimeoutMs: 5000,
        driver: 'default' as const,
      };
      baselines.floor = await startFloor(options);
      baselines['floor, our driver'] = await startFloor({ ...options, driver: 'ours' });
      baselines.typical = await startTypical(options);
      week = (
        await db.query<{ w: Date }>(
          "SELECT date_trunc('week', min(starts_at)) AS w FROM shifts.shifts",
        )
      ).rows[0]!.w;
    });
    after(async () => {
      for (const s of Object.values(baselines)) await new Promise((r) => s.close(r));
      for (const app of Object.values(ours)) await app.close();
      await db.close();
      await database.drop();
    });

    async function compare(service: 'users' | 'shifts', path: string) {
      const expected = await ours[service]!.inject({ url: path, headers: await bearer() });
      assert.equal(expected.statusCode, 200, expected.body);
      for (const [name, server] of Object.entries(baselines)) {
        const res = await fetch(
          `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
        );
        assert.equal(res.status, 200, name);
        assert.deepEqual(await res.json(), expected.json(), `${name}: ${path}`);
      }
      return expected.json() as { nextCursor?: string };
    }

    test('get user by id, list pages by keyset, shifts of a location in a week', async () => {
      await compare('users', `/v1/users/${seededUserId(42)}`);
      const first = await compare('users', '/v1/users?limit=50');
      await compare('users', `/v1/users?limit=50&cursor=${first.nextCursor}`);
      const from = week.toISOString();
      const to = new Date(week.getTime() + 7 * 86_400_000).toISOString();
      const shifts = (await compare(
        'shifts',
        `/v1/shifts?locationId=2&from=${from}&to=${to}&limit=50`,
      )) as unknown as { items: unknown[] };
      assert.ok(shifts.items.length > 0, 'the window is not empty');
    });

    test('create shift: same status and body apart from the generated id and times', async () => {
      const body = (userId: string) => ({
        userId,
        locationId: 1,
        position: 'cook',
        startsAt: '2031-03-03T08:00:00.000Z',
        endsAt: '2031-03-03T16:00:00.000Z',
        breakMinutes: 30,
        notes: 'bench',
        published: false,
      });
      const strip = ({
        id: _id,
        userId: _u,
        createdAt: _c,
        updatedAt: _up,
        ...rest
      }: Record<string, unknown>) => rest;
      const expected = await ours.shifts!.inject({
        method: 'POST',
        url: '/v1/shifts',
        headers: await bearer(),
        payload: body(crypto.randomUUID()),
      });
      assert.equal(expected.statusCode, 201, expected.body);
      for (const [name, server] of Object.entries(baselines)) {
        const res = await fetch(
          `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/shifts`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body(crypto.randomUUID())),
          },
        );
        assert.equal(res.status, 201, name);
        assert.deepEqual(
          strip((await res.json()) as Record<string, unknown>),
          strip(expected.json()),
          name,
        );
      }
    });
  },
);
