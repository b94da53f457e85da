// The floor: node:http + pg running the services' SQL with no framework, validation, logging or
// metrics. What our stack costs is measured against this.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
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

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

export async function startFloor(o: BaselineOptions): Promise<Server> {
  const db = openDb(o, o.driver === 'ours' ? 'floor-our-driver' : 'floor');
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, { title: err.message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const q = url.searchParams;
    const limit = Number(q.get('limit') ?? 50);
    if (req.method === 'GET' && path.startsWith('/v1/users/')) {
      const { rows } = await db.query(sql.getUser, [path.slice('/v1/users/'.length)]);
      if (!rows[0]) return send(res, 404, { title: 'Not Found', status: 404 });
      return send(res, 200, toUser(rows[0]), { etag: `"${rows[0].version}"` });
    }
    if (req.method === 'GET' && path === '/v1/users') {
      const cursor = q.get('cursor');
      const offset = q.get('offset');
      const { rows } = cursor
        ? await db.query(sql.listUsersAfter, [userCursorId(cursor), limit + 1])
        : offset
          ? await db.query(sql.listUsersOffset, [limit + 1, Number(offset)])
          : await db.query(sql.listUsersFirstPage, [limit + 1]);
      return send(res, 200, page(rows, limit, toUser, userCursor));
    }
    if (req.method === 'GET' && path === '/v1/shifts') {
      const { rows } = await db.query(sql.listShiftsOfLocation, [
        Number(q.get('locationId')),
        q.get('from'),
        q.get('to'),
        limit + 1,
      ]);
      return send(res, 200, page(rows, limit, toShift, shiftCursor));
    }
    if (req.method === 'POST' && path === '/v1/shifts') {
      const b = await readJson(req);
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
      return send(res, 201, shift, {
        etag: `"${String(created.version)}"`,
        location: `/v1/shifts/${shift.id}`,
      });
    }
    if (path === '/readyz') return send(res, 200, { status: 'ready' });
    send(res, 404, { title: 'Not Found', status: 404 });
  }

  server.on('close', () => void db.end());
  await new Promise<void>((resolve) => server.listen(o.port, '127.0.0.1', resolve));
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await startFloor(baselineOptions());
  // A normal exit, so that --cpu-prof writes its profile.
  process.on('SIGTERM', () => process.exit(0));
}
