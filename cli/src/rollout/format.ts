// Human output: progress lines, tables and diagnostics. Pure string builders, so the layout is
// unit-tested and the commands only decide what to show.
import { summarizeRecord, type AnalysisRecord } from '../analysis/record.js';
import type { ConnectionEvent } from '../kube/watch.js';

export interface Progress {
  service: string;
  revision?: number;
  desired: number;
  updated: number;
  ready: number;
  available: number;
  /** Pods of older revisions still counted in status.replicas. */
  old: number;
  elapsedMs: number;
  message: string;
  warning?: string;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d`;
}

/** The counts part of a progress line; non-TTY output prints a new line only when this changes. */
export function progressKey(p: Progress): string {
  const rev = p.revision !== undefined ? `rev ${p.revision}  ` : '';
  const old = p.old > 0 ? `  old ${p.old}` : '';
  return `${p.service}  ${rev}updated ${p.updated}/${p.desired}  ready ${p.ready}/${p.desired}  available ${p.available}/${p.desired}${old}`;
}

export function formatProgress(p: Progress): string {
  const warning = p.warning ? `  (warning: ${p.warning})` : '';
  return `[${formatDuration(p.elapsedMs).padStart(5)}] ${progressKey(p)}${warning}`;
}

/** Left-aligned columns separated by two spaces; the last column is never padded. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export interface HistoryRow {
  revision: number;
  image: string;
  changeCause?: string;
  /** What the release analysis said about this revision (analysis/record.ts). */
  analysis?: AnalysisRecord;
  createdAt?: string;
  live: boolean;
  readyReplicas: number;
  replicas: number;
}

export function formatHistory(service: string, rows: readonly HistoryRow[], now: number): string {
  if (rows.length === 0) return `${service}: no revisions`;
  const table = [
    ['', 'REVISION', 'AGE', 'PODS', 'IMAGE', 'ANALYSIS', 'CHANGE-CAUSE'],
    ...rows.map((r) => [
      r.live ? '*' : '',
      String(r.revision),
      r.createdAt ? formatDuration(now - Date.parse(r.createdAt)) : '?',
      `${r.readyReplicas}/${r.replicas}`,
      r.image,
      summarizeRecord(r.analysis),
      r.changeCause ?? '<none>',
    ]),
  ];
  return `${service} (* = live)\n${formatTable(table)}`;
}

export interface MetricRow {
  name: string;
  current?: string;
  target: string;
}

export interface HpaStatus {
  name: string;
  minReplicas?: number;
  maxReplicas: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  metrics: MetricRow[];
}

export interface WarningEvent {
  object: string;
  reason: string;
  message: string;
  count: number;
  lastSeen?: string;
}

export interface ServiceStatus {
  service: string;
  found: boolean;
  revision?: number;
  image?: string;
  desired?: number;
  updated?: number;
  ready?: number;
  available?: number;
  rollout?: string;
  paused?: boolean;
  hpa?: HpaStatus;
  warnings: WarningEvent[];
}

export function formatEvents(events: readonly WarningEvent[], now: number): string[] {
  return events.map((e) => {
    const age = e.lastSeen ? `${formatDuration(now - Date.parse(e.lastSeen))} ago` : '';
    const times = e.count > 1 ? ` (x${e.count})` : '';
    return `${age.padStart(8)}  ${e.object}  ${e.reason}: ${e.message}${times}`;
  });
}

export function formatStatus(s: ServiceStatus, now: number): string {
  if (!s.found) return `${s.service}: no Deployment found`;
  const lines = [
    `${s.service}  revision ${s.revision ?? '?'}${s.paused ? '  PAUSED' : ''}`,
    `  image      ${s.image ?? '?'}`,
    `  replicas   desired ${s.desired ?? 0}  updated ${s.updated ?? 0}  ready ${s.ready ?? 0}  available ${s.available ?? 0}`,
    `  rollout    ${s.rollout ?? '?'}`,
  ];
  if (s.hpa) {
    const h = s.hpa;
    lines.push(
      `  hpa        ${h.name}: ${h.currentReplicas ?? '?'} replicas (desired ${h.desiredReplicas ?? '?'}, min ${h.minReplicas ?? 1}, max ${h.maxReplicas})`,
    );
    for (const m of h.metrics)
      lines.push(`             ${m.name}: ${m.current ?? '<unknown>'} / ${m.target}`);
  } else {
    lines.push('  hpa        none');
  }
  if (s.warnings.length === 0) {
    lines.push('  warnings   none in the last hour');
  } else {
    lines.push('  warnings');
    for (const line of formatEvents(s.warnings, now)) lines.push(`  ${line}`);
  }
  return lines.join('\n');
}

export interface Diagnosis {
  pod: string;
  container?: string;
  events: WarningEvent[];
  /** The last log lines, or why they could not be read. */
  logs: { lines: string[] } | { unavailable: string };
}

export function formatDiagnosis(d: Diagnosis, now: number): string {
  const lines = [`--- pod ${d.pod}: warning events ---`];
  if (d.events.length === 0) lines.push('  (none)');
  else lines.push(...formatEvents(d.events, now));
  lines.push(
    `--- pod ${d.pod}${d.container ? ` container ${d.container}` : ''}: last log lines ---`,
  );
  if ('unavailable' in d.logs) lines.push(`  (logs unavailable: ${d.logs.unavailable})`);
  else if (d.logs.lines.length === 0) lines.push('  (no output)');
  else lines.push(...d.logs.lines.map((l) => `  ${l}`));
  return lines.join('\n');
}

/** A watch's outage and its end, as the progress output reports them. */
export function formatConnection(e: ConnectionEvent): string {
  if (e.kind === 'lost') {
    return `API server connection lost (watching ${e.what}: ${e.reason}); reconnecting, resuming from resourceVersion ${e.resourceVersion || '(none: re-listing)'}`;
  }
  return `API server connection back after ${formatDuration(e.downMs)} (watching ${e.what}; ${e.relisted ? 'history expired (410 Gone): re-listed' : 'resumed where it left off'})`;
}
