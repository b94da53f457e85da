// Small SVG plots, written by hand (a few polylines do not need a charting dependency): cost vs
// replicas (API requests, time to rolled out / back), one line per tool and release; and the HPA
// timeline (replicas and CPU over time). Pure.
import type { Release, RunResult, Tool } from './report.js';
import type { Sample } from './timeline.js';

export interface Panel {
  title: string;
  value: (r: RunResult) => number;
}

export const PANELS: Panel[] = [
  { title: 'API requests', value: (r) => r.requests.total },
  { title: 'time to rolled out / back (s)', value: (r) => r.doneMs / 1000 },
];

const SERIES: Array<{ tool: Tool; release: Release; color: string; dash: string }> = [
  { tool: 'shiftops', release: 'good', color: '#1f77b4', dash: '' },
  { tool: 'shiftops', release: 'bad', color: '#d62728', dash: '' },
  { tool: 'kubectl', release: 'good', color: '#1f77b4', dash: '6 4' },
  { tool: 'kubectl', release: 'bad', color: '#d62728', dash: '6 4' },
];

/** A "nice" upper end for an axis: 1, 2 or 5 times a power of ten, at least max. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= max)!;
}

const W = 360;
const H = 240;
const M = { left: 48, right: 12, top: 28, bottom: 36 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export interface Line {
  label: string;
  color: string;
  dash: string;
  points: Array<[number, number]>;
}

/** One panel of lines over x 0..niceMax and y 0..niceMax, at horizontal offset x0. */
function linePanel(title: string, xLabel: string, lines: readonly Line[], x0: number): string {
  const all = lines.flatMap((l) => l.points);
  const xMax = niceMax(Math.max(...all.map((p) => p[0])));
  const yMax = niceMax(Math.max(...all.map((p) => p[1])));
  const px = (x: number) => x0 + M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const parts = [
    `<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(xMax)}" y2="${py(0)}" stroke="#000"/>`,
    `<line x1="${px(0)}" y1="${py(0)}" x2="${px(0)}" y2="${py(yMax)}" stroke="#000"/>`,
  ];
  for (const f of [0, 0.5, 1]) {
    parts.push(
      `<text x="${px(0) - 4}" y="${py(yMax * f) + 4}" text-anchor="end">${yMax * f}</text>`,
      `<text x="${px(xMax * f)}" y="${py(0) + 14}" text-anchor="middle">${xMax * f}</text>`,
    );
  }
  parts.push(`<text x="${px(xMax / 2)}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  for (const l of lines) {
    if (l.points.length === 0) continue;
    const pts = l.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    const dash = l.dash ? ` stroke-dasharray="${l.dash}"` : '';
    parts.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${l.color}" stroke-width="2"${dash}/>`,
    );
    if (l.points.length <= 20)
      parts.push(
        ...pts.map((pt) => {
          const [cx, cy] = pt.split(',');
          return `<circle cx="${cx}" cy="${cy}" r="3" fill="${l.color}"/>`;
        }),
      );
  }
  return parts.join('\n');
}

function legend(lines: ReadonlyArray<Pick<Line, 'label' | 'color' | 'dash'>>): string[] {
  return lines.map((s, i) => {
    const x = 20 + i * 170;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    return `<line x1="${x}" y1="${H + 12}" x2="${x + 24}" y2="${H + 12}" stroke="${s.color}" stroke-width="2"${dash}/><text x="${x + 30}" y="${H + 16}">${esc(s.label)}</text>`;
  });
}

function svg(width: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 28}" viewBox="0 0 ${width} ${H + 28}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function panel(runs: readonly RunResult[], p: Panel, x0: number): string {
  const lines = SERIES.map((s) => ({
    label: `${s.tool} ${s.release}`,
    color: s.color,
    dash: s.dash,
    points: runs
      .filter((r) => r.tool === s.tool && r.release === s.release)
      .sort((a, b) => a.replicas - b.replicas)
      .map((r): [number, number] => [r.replicas, p.value(r)]),
  }));
  return linePanel(p.title, 'replicas', lines, x0);
}

/** Both panels side by side with a legend below; an empty result is an error, not an empty plot. */
export function costPlot(runs: readonly RunResult[], panels: Panel[] = PANELS): string {
  if (runs.length === 0) throw new Error('no runs to plot');
  const labels = SERIES.map((s) => ({
    label: `${s.tool} ${s.release}`,
    color: s.color,
    dash: s.dash,
  }));
  return svg(W * panels.length, [
    ...panels.map((p, i) => panel(runs, p, i * W)),
    ...legend(labels),
  ]);
}

/**
 * The HPA timeline: replicas (desired, ready) and CPU (the HPA's average, the emulated per-pod
 * load) over time, side by side. No samples is an error, not an empty plot.
 */
export function timelinePlot(samples: readonly Sample[]): string {
  if (samples.length === 0) throw new Error('no samples to plot');
  const t = (s: Sample) => s.t / 1000;
  const replicas: Line[] = [
    {
      label: 'desired replicas',
      color: '#1f77b4',
      dash: '6 4',
      points: samples.map((s) => [t(s), s.desired]),
    },
    {
      label: 'ready replicas',
      color: '#1f77b4',
      dash: '',
      points: samples.map((s) => [t(s), s.ready]),
    },
  ];
  const cpu: Line[] = [
    {
      label: 'HPA average CPU %',
      color: '#d62728',
      dash: '',
      points: samples.filter((s) => s.cpu !== undefined).map((s) => [t(s), s.cpu!]),
    },
    {
      label: 'emulated CPU per pod %',
      color: '#d62728',
      dash: '6 4',
      points: samples.map((s) => [t(s), s.load]),
    },
  ];
  return svg(W * 2, [
    linePanel('replicas', 'time (s)', replicas, 0),
    linePanel('CPU (% of request)', 'time (s)', cpu, W),
    ...legend([...replicas, ...cpu]),
  ]);
}
