// The typical: the same endpoints as a team would write them by default, Express 5 + pg, with
// express.json() and a catch-all error handler. Same SQL, same pool size, same JSON.
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as sql from '../sql.js';
import {
  baselineOptions,
  userCursorId,
  openDb,
  page,
  shiftCursor,
  toShift,
  toUser,
  userCursor,
  type BaselineOptions,
} from './common.js';

export async function startTypical(o: BaselineOptions): Promise<Server> {
  const db = openDb(o, o.driver === 'ours' ? 'typical-our-driver' : 'typical');
  const app = express();
  app.use(express.json());

  app.get('/readyz', (_req, res) => {
    res.json({ status: 'ready' });
  });

  app.get('/v1/users/:id', async (req, res) => {
    const { rows } = await db.query(sql.getUser, [req.params.id]);
    if (!rows[0]) return void res.status(404).json({ title: 'Not Found', status: 404 });
    res.set('etag', `"${rows[0].version}"`).json(toUser(rows[0]));
  });

  app.get('/v1/users', async (req, res) => {
    const limit = Number(req.query.limit ?? 50);
    const cursor = req.query.cursor as string | undefined;
    const { rows } = cursor
      ? await db.query(sql.listUsersAfter, [userCursorId(cursor), limit + 1])
      : await db.query(sql.listUsersFirstPage, [limit + 1]);
    res.json(page(rows, limit, toUser, userCursor));
  });

  app.get('/v1/shifts', async (req, res) => {
    const limit = Number(req.query.limit ?? 50);
    const { rows } = await db.query(sql.listShiftsOfLocation, [
      Number(req.query.locationId),
      req.query.from,
      req.query.to,
      limit + 1,
    ]);
    res.json(page(rows, limit, toShift, shiftCursor));
  });

  app.post('/v1/shifts', async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const { rows } = await db.query(sql.createShift, [
      b.userId,
      b.locationId,
      b.position,
      b.startsAt,
      b.endsAt,
      b.breakMinutes ?? 0,
      b.notes ?? null,
      b.published ?? false,
    ]);
    const created = rows[0]!;
    const shift = toShift(created);
    res
      .status(201)
      .set({ etag: `"${String(created.version)}"`, location: `/v1/shifts/${shift.id}` })
      .json(shift);
  });

  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ title: err.message, status: 500 });
  });

  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(o.port, '127.0.0.1', () => resolve(s));
  });
  server.on('close', () => void db.end());
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await startTypical(baselineOptions());
  // A normal exit, so that --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
}
