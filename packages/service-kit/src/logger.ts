import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

// Logs carry no personal data (emails, names): request logs show a query's parameter names but not
// their values (`q` searches names and emails), and database errors lose the parts that quote row
// values: PostgreSQL's `detail` ("Key (lower(email))=(ada@example.com) already exists") and
// quoted input in the message ('invalid input syntax for type uuid: "…"').

/** `/v1/users?q=ada&limit=5` → `/v1/users?q=…&limit=…`. */
export function maskQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const names = url
    .slice(at + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=…`);
  return `${url.slice(0, at)}?${names.join('&')}`;
}

interface RequestLike {
  method?: string;
  url?: string;
  routeOptions?: { url?: string };
}

function req(r: RequestLike) {
  return { method: r.method, url: maskQuery(r.url ?? ''), route: r.routeOptions?.url };
}

type ErrorLike = Error & Record<string, unknown>;

function err(e: ErrorLike) {
  if (!(e instanceof Error)) return e;
  const keep = ['code', 'constraint', 'table', 'column', 'routine', 'severity', 'statusCode'];
  const names = new Set(
    ['constraint', 'table', 'column'].map((k) => e[k]).filter((v) => typeof v === 'string'),
  );
  // Quoted values go, unless they are the names of database objects.
  const scrub = (text: string) =>
    text.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) =>
      names.has(inner) ? whole : '"…"',
    );
  const out: Record<string, unknown> = {
    type: e.name,
    message: scrub(e.message),
    stack: e.stack ? scrub(e.stack) : undefined,
  };
  for (const k of keep) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

export const serializers = { req, err };

export function createLogger(config: Readonly<Config>): Logger {
  return pino({
    level: config.logLevel,
    base: { service: config.service.name, version: config.service.version },
    serializers,
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.DATABASE_URL'],
  });
}
