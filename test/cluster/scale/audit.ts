// The API server's audit log (JSON lines, one event per request of the measured clients: see
// audit-policy.yaml) turned into request counts for one user. Pure: text in, counts out.

export interface AuditEvent {
  user: string;
  verb: string;
  /** resource[/subresource], e.g. "pods", "selfsubjectaccessreviews", "pods/log" */
  resource: string;
  code: number | undefined;
}

interface RawEvent {
  stage?: string;
  verb?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/**
 * The completed requests in an audit log. A request is complete at stage ResponseComplete (or
 * Panic); other stages are skipped so a policy that keeps them does not double-count. Only the
 * last line may be torn (the server is still writing); any other bad line is an error.
 */
export function parseAuditLog(text: string): AuditEvent[] {
  const lines = text.split('\n');
  const events: AuditEvent[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      if (i === lines.length - 1) return;
      throw new Error(`audit log line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
    }
    if (raw.stage !== 'ResponseComplete' && raw.stage !== 'Panic') return;
    const ref = raw.objectRef ?? {};
    events.push({
      user: raw.user?.username ?? '',
      verb: raw.verb ?? '',
      resource: ref.resource ? ref.resource + (ref.subresource ? `/${ref.subresource}` : '') : '',
      code: raw.responseStatus?.code,
    });
  });
  return events;
}

export interface RequestCounts {
  total: number;
  byVerb: Record<string, number>;
  /** "verb resource", e.g. "watch pods" */
  byVerbAndResource: Record<string, number>;
}

const increment = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Requests of one user, by verb and by verb and resource (keys sorted). */
export function countRequests(events: readonly AuditEvent[], user: string): RequestCounts {
  const byVerb: Record<string, number> = {};
  const byVerbAndResource: Record<string, number> = {};
  let total = 0;
  for (const e of events) {
    if (e.user !== user) continue;
    total++;
    increment(byVerb, e.verb);
    increment(byVerbAndResource, `${e.verb} ${e.resource || '-'}`);
  }
  const sorted = (m: Record<string, number>) =>
    Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  return { total, byVerb: sorted(byVerb), byVerbAndResource: sorted(byVerbAndResource) };
}
