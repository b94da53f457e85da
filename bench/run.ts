// `npm run bench [-- --quick] [-- --json <file>]`: our services against a bare node:http floor,
// a typical Express server and pgbench, on one seeded PostgreSQL server. See bench/README.md.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { Agent, get as httpGet } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { TokenIssuer, demoPrincipal } from '../packages/service-kit/src/auth/issuer.js';
import { freePort, postgresBinDir } from '../packages/service-kit/testing/postgres-server.js';
import { startBenchPostgres } from './postgres.js';
import type { LoadResult, LoadSpec } from './load.js';
import { requestHeaders } from './requests.js';
import * as sql from './sql.js';

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    reps: { type: 'string' },
    duration: { type: 'string' },
    users: { type: 'string', default: '100000' },
    'cpu-prof': { type: 'boolean', default: false },
    only: { type: 'string' },
    /** e.g. --connections 10,50 */
    connections: { type: 'string' },
    /** --no-pool-only: skip the comparison with pipelining switched off. */
    'pool-only': { type: 'boolean' },
    /** --no-cache: seed a new data set instead of copying the one cached by an earlier run. */
    cache: { type: 'boolean', default: true },
  },
});
const quick = args.quick;
const REPS = Number(args.reps ?? (quick ? 1 : 3));
const DURATION_S = Number(args.duration ?? (quick ? 2 : 6));
// --quick keeps both connection counts and every target, so it reports the same ratios.
const CONNECTIONS = args.connections?.split(',').map(Number) ?? [10, 50];
const USERS = Number(args.users);
const LOCATIONS = Math.max(5, Math.floor(USERS / 100));
const POOL_MAX = 10;
const PAGE = 50;
const DEEP_PAGE = 1000;
const SWEEP_PAGES = quick ? [1, 100, 1000] : [1, 10, 100, 1000, 2000];
const root = new URL('../', import.meta.url).pathname;
const started = Date.now();

const log = (msg: string) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);

// ---------------------------------------------------------------- processes
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  readyMs: number;
  idleRssMb?: number;
  peakRssMb: number;
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/**
 * Spawns a server and measures the time from spawn to its first /readyz 200: on the operations
 * port (OPS_PORT) for ours, on the main port for the baselines, which have no second port.
 */
async function startServer(
  name: string,
  argv: string[],
  env: Record<string, string>,
): Promise<Server> {
  const port = await freePort();
  const opsPort = await freePort();
  const baseline = !argv.some((a) => a.includes('dist/server.js'));
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      OPS_PORT: String(opsPort),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const readyz = `http://127.0.0.1:${baseline ? port : opsPort}/readyz`;
  while ((await status(readyz)) !== 200) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${stderr}`);
    if (performance.now() - t0 > 60_000) throw new Error(`${name} not ready after 60 s`);
    await sleep(5);
  }
  const readyMs = performance.now() - t0;
  return { name, url, child, readyMs, peakRssMb: 0 };
}

async function stopServer(s: Server) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

async function idleRss(s: Server) {
  await sleep(1000);
  s.idleRssMb = rssMb(s.child.pid);
}

// Authentication on, as in production: every request carries an admin's RS256 token, one token for
// the whole run as a client keeps one for its session; the service verifies it against an inline
// JWKS (no key fetch in the measurement) and then answers it from its verified-token cache
// (docs/access.md). The same build with AUTH=disabled runs alongside: what authentication costs.
const issuer = await TokenIssuer.create('https://bench-issuer.shiftops.invalid/', 'shiftops');
const authEnv = {
  AUTH_ISSUER: issuer.issuer,
  AUTH_AUDIENCE: issuer.audience,
  AUTH_JWKS: JSON.stringify(issuer.jwks()),
};
// requestHeaders() (bench/requests.ts) sends it, here and in the load process, which inherits it.
process.env.BENCH_AUTHORIZATION = `Bearer ${await issuer.token(demoPrincipal(50))}`;
const loader = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/load.ts')], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
loader.on('exit', (code) => {
  if (code) throw new Error(`load generator exited ${code}`);
});

/** CPU time (user + system) a process has used so far, in ms. */
function cpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/**
 * One autocannon run in the load process, sampling the target's RSS meanwhile and measuring the
 * CPU it used per request: unlike requests/s, that barely moves when other work shares the cores.
 */
async function runLoad(
  spec: LoadSpec,
  target: Server,
): Promise<LoadResult & { cpuUsPerRequest: number }> {
  const sampler = setInterval(() => {
    target.peakRssMb = Math.max(target.peakRssMb, rssMb(target.child.pid));
  }, 250);
  const cpuBefore = cpuMs(target.child.pid);
  try {
    const result = await new Promise<LoadResult>((resolve) => {
      loader.once('message', (r) => resolve(r as LoadResult));
      loader.send(spec);
    });
    const cpu = cpuMs(target.child.pid) - cpuBefore;
    return { ...result, cpuUsPerRequest: (cpu * 1000) / Math.max(result.requests, 1) };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * bench/results/pool-only: the built services with a copy of the built service-kit whose
 * PIPELINED_LANES is 0; node resolves every other package from the repository's node_modules.
 */
function poolOnlyCopy(svc: 'users' | 'shifts'): string {
  const base = join(root, 'bench/results/pool-only');
  const kit = join(base, 'node_modules/@shiftops/service-kit');
  if (!existsSync(kit)) {
    cpSync(join(root, 'packages/service-kit/package.json'), join(kit, 'package.json'));
    cpSync(join(root, 'packages/service-kit/dist'), join(kit, 'dist'), { recursive: true });
    const file = join(kit, 'dist/db/postgres.js');
    const code = readFileSync(file, 'utf8');
    const patched = code.replace(/const PIPELINED_LANES = \d+;/, 'const PIPELINED_LANES = 0;');
    if (patched === code) throw new Error(`PIPELINED_LANES not found in ${file}`);
    writeFileSync(file, patched);
  }
  for (const part of ['package.json', 'dist', 'migrations']) {
    cpSync(join(root, 'services', svc, part), join(base, 'services', svc, part), {
      recursive: true,
    });
  }
  return join(base, 'services', svc, 'dist/server.js');
}

// ---------------------------------------------------------------- database
const bin = postgresBinDir();
if (!bin) throw new Error('PostgreSQL binaries not found: install postgresql or set PG_BINDIR');
rmSync(join(root, 'bench/results/pool-only'), { recursive: true, force: true });
log('starting PostgreSQL');
const pgServer = await startBenchPostgres(root, bin, USERS, args.cache);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const dbUrl = pgServer.url;
const pgVersion = execFileSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
const seedMs = pgServer.seed.ms;
const db = new pg.Client({ connectionString: dbUrl });
await db.connect();
const counts = (
  await db.query<{ users: string; shifts: string; week: Date }>(
    `SELECT (SELECT count(*) FROM users.users) AS users, (SELECT count(*) FROM shifts.shifts) AS shifts,
            (SELECT date_trunc('week', min(starts_at)) FROM shifts.shifts) AS week`,
  )
).rows[0]!;
log(
  `${counts.users} users, ${counts.shifts} shifts: ${pgServer.seed.cached ? 'copied from' : 'seeded and vacuumed, cached in'} ${pgServer.seed.cacheDir} in ${(seedMs / 1000).toFixed(1)} s`,
);

// ---------------------------------------------------------------- servers
const cpuProfDir = join(root, 'bench/results/cpu-prof');
const profileFlags = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
const common = { DATABASE_URL: dbUrl, DB_POOL_MAX: String(POOL_MAX) };
// Request logging off for ours as for the baselines, which have no logger: the bench compares the
// stack, not where a log line goes. DRAIN_DELAY_MS=0 so the servers stop at once at the end.
const ourEnv = { ...common, ...authEnv, LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' };
const authOffEnv = { ...common, AUTH: 'disabled', LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' };
log('starting servers');
const ours = {
  users: await startServer(
    'ours-users',
    [...profileFlags, 'services/users/dist/server.js'],
    ourEnv,
  ),
  shifts: await startServer(
    'ours-shifts',
    [...profileFlags, 'services/shifts/dist/server.js'],
    ourEnv,
  ),
};
const authOff = {
  users: await startServer('auth-off-users', ['services/users/dist/server.js'], authOffEnv),
  shifts: await startServer('auth-off-shifts', ['services/shifts/dist/server.js'], authOffEnv),
};
const floor = await startServer(
  'floor',
  [...profileFlags, '--import', 'tsx', 'bench/baselines/floor.ts'],
  common,
);
// The same floor on the services' database layer (BASELINE_DRIVER=ours): ours over this one is
// what the HTTP stack costs, with the driver settings taken out of the comparison.
const floorOurDriver = await startServer(
  'floor-our-driver',
  [...profileFlags, '--import', 'tsx', 'bench/baselines/floor.ts'],
  { ...common, BASELINE_DRIVER: 'ours' },
);
const typical = await startServer(
  'typical',
  [...profileFlags, '--import', 'tsx', 'bench/baselines/typical.ts'],
  common,
);
// The same services with the pipelined lanes switched off (a patched copy of the built
// service-kit): what pipelining changes, measured in the same run.
const poolOnly =
  (args['pool-only'] ?? true)
    ? {
        users: await startServer('pool-only-users', [poolOnlyCopy('users')], ourEnv),
        shifts: await startServer('pool-only-shifts', [poolOnlyCopy('shifts')], ourEnv),
      }
    : undefined;
const servers = [
  ours.users,
  ours.shifts,
  ...(poolOnly ? [poolOnly.users, poolOnly.shifts] : []),
  authOff.users,
  authOff.shifts,
  floor,
  floorOurDriver,
  typical,
];
await Promise.all(servers.map(idleRss));

// The cursor of page N, by following nextCursor from the first page as a client would.
log(`walking ${DEEP_PAGE - 1} pages for the keyset cursor`);
const cursors = new Map<number, string>([[1, '']]);
{
  let cursor: string | null = null;
  const last = Math.max(DEEP_PAGE, ...SWEEP_PAGES);
  for (let p = 2; p <= last; p++) {
    const res = await fetch(
      `${ours.users.url}/v1/users?limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`,
      { headers: requestHeaders() },
    );
    if (res.status !== 200) throw new Error(`page ${p - 1}: ${res.status} ${await res.text()}`);
    cursor = ((await res.json()) as { nextCursor: string | null }).nextCursor;
    if (!cursor) throw new Error(`no page ${p}`);
    cursors.set(p, cursor);
  }
}
const deepCursor = cursors.get(DEEP_PAGE)!;
// A users cursor is the id of the last row of the previous page.
const deepAfterId = deepCursor;
const from = counts.week.toISOString();
const to = new Date(counts.week.getTime() + 7 * 86_400_000).toISOString();
const newShift = { startsAt: '2031-03-03T08:00:00.000Z', endsAt: '2031-03-03T16:00:00.000Z' };

// ---------------------------------------------------------------- scenarios
interface Scenario {
  name: string;
  service: 'users' | 'shifts';
  path: string;
  /** The floor alone also serves this path: the OFFSET version of the deep page. */
  offsetPath?: string;
  createShift?: boolean;
  /** pgbench script: the same statement with pgbench variables as parameters. */
  pgbench: string;
  pgbenchVars: Record<string, string>;
}

/** The statement with $n replaced by :name, as pgbench sends them in -M extended/prepared. */
const bind = (text: string, ...names: string[]) =>
  text.replace(/\$(\d+)/g, (_, n: string) => `:${names[Number(n) - 1]}`);

const allScenarios: Scenario[] = [
  {
    name: 'get user by id',
    service: 'users',
    path: '/v1/users/{user}',
    // pgbench cannot make a uuid per transaction without a second statement: one fixed id, of a
    // table that is in shared_buffers either way.
    pgbench: `${bind(sql.getUser, 'id')};`,
    pgbenchVars: { id: (await db.query('SELECT id FROM users.users LIMIT 1')).rows[0].id },
  },
  {
    name: 'list users, page 1',
    service: 'users',
    path: `/v1/users?limit=${PAGE}`,
    pgbench: `${bind(sql.listUsersFirstPage, 'lim')};`,
    pgbenchVars: { lim: String(PAGE + 1) },
  },
  {
    name: 'shifts of a location, one week',
    service: 'shifts',
    path: `/v1/shifts?locationId={location}&from=${from}&to=${to}&limit=${PAGE}`,
    pgbench: `\\set loc random(1, ${LOCATIONS})\n${bind(sql.listShiftsOfLocation, 'loc', 'from', 'to', 'lim')};`,
    pgbenchVars: { from, to, lim: String(PAGE + 1) },
  },
  {
    name: `list users, page ${DEEP_PAGE}`,
    service: 'users',
    path: `/v1/users?limit=${PAGE}&cursor=${deepCursor}`,
    offsetPath: `/v1/users?limit=${PAGE}&offset=${(DEEP_PAGE - 1) * PAGE}`,
    pgbench: `${bind(sql.listUsersAfter, 'after', 'lim')};`,
    pgbenchVars: { after: deepAfterId, lim: String(PAGE + 1) },
  },
  {
    name: 'create shift',
    service: 'shifts',
    path: '/v1/shifts',
    createShift: true,
    // Each insert is for a new user so it never overlaps: the id of the shift just created (a
    // fresh uuid) is the next user id, so every transaction is this one statement.
    pgbench: [
      '\\if :started = 0',
      'SELECT gen_random_uuid() AS r_id \\gset',
      '\\set started 1',
      '\\endif',
      `${bind(sql.createShift, 'r_id', 'loc', 'pos', 'starts', 'ends', 'brk', 'notes', 'pub')} \\gset r_`,
    ].join('\n'),
    pgbenchVars: {
      started: '0',
      loc: '1',
      pos: 'cook',
      starts: newShift.startsAt,
      ends: newShift.endsAt,
      brk: '30',
      notes: 'bench',
      pub: 'false',
    },
  },
];

// --only <text>: just the scenarios whose name contains it, to iterate on one.
const scenarios = allScenarios.filter((s) => !args.only || s.name.includes(args.only));

const scriptDir = mkdtempSync(join(tmpdir(), 'shiftops-bench-'));
process.on('exit', () => rmSync(scriptDir, { recursive: true, force: true }));

interface PgbenchResult {
  tps: number;
  latencyMs: number;
  errors: number;
}

function pgbench(s: Scenario, clients: number, mode: 'extended' | 'prepared'): PgbenchResult {
  const script = join(scriptDir, `${s.name.replace(/\W+/g, '-')}.sql`);
  writeFileSync(script, `${s.pgbench}\n`);
  const u = new URL(dbUrl);
  const r = spawnSync(
    join(bin!, 'pgbench'),
    [
      '-n',
      ...['-h', u.hostname, '-p', u.port, '-U', 'postgres'],
      ...['-c', String(clients), '-j', '2', '-T', String(DURATION_S), '-M', mode, '-f', script],
      ...Object.entries(s.pgbenchVars).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      'bench',
    ],
    { encoding: 'utf8' },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1] ?? NaN);
  const failed = Number(/number of failed transactions: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  // A missing baseline would drop its ratio from the results: stop the run instead.
  if (r.status !== 0 || Number.isNaN(tps) || failed > 0) {
    throw new Error(
      `pgbench ${s.name} -M ${mode} failed (exit ${r.status}, ${failed} failed transactions):\n${r.stderr.slice(0, 2000)}`,
    );
  }
  return { tps, latencyMs, errors: failed };
}

type Target =
  | 'ours'
  | 'ours, pool only'
  | 'ours, auth off'
  | 'floor'
  | 'floor, our driver'
  | 'typical'
  | 'floor OFFSET';
interface Sample {
  scenario: string;
  connections: number;
  rep: number;
  target: Target | 'pgbench extended' | 'pgbench prepared';
  rps: number;
  p50?: number;
  p99?: number;
  latencyAvg?: number;
  /** Server process CPU (user + system) per request; not for pgbench. */
  cpuUsPerRequest?: number;
  errors: number;
}
const samples: Sample[] = [];

function spec(
  s: Scenario,
  server: Server,
  connections: number,
  path = s.path,
  durationS = DURATION_S,
): LoadSpec {
  return {
    url: server.url,
    connections,
    durationS,
    path,
    users: USERS,
    locations: LOCATIONS,
    ...(s.createShift ? { createShift: newShift } : {}),
  };
}

function targetsOf(s: Scenario): [Target, Server, string][] {
  const t: [Target, Server, string][] = [
    ['ours', ours[s.service], s.path],
    ...(poolOnly
      ? [['ours, pool only', poolOnly[s.service], s.path] as [Target, Server, string]]
      : []),
    ['ours, auth off', authOff[s.service], s.path],
    ['floor', floor, s.path],
    ['floor, our driver', floorOurDriver, s.path],
    ['typical', typical, s.path],
  ];
  if (s.offsetPath) t.push(['floor OFFSET', floor, s.offsetPath]);
  return t;
}

// Every server gets the same warm-up. 2 s left V8 still optimising our larger code during the
// measurement (13% of ours' CPU in a profile, 5% of the floor's).
log('warming up');
for (const s of scenarios) {
  for (const [, server, path] of targetsOf(s))
    await runLoad(spec(s, server, 50, path, quick ? 2 : 5), server);
}
for (const s of servers) s.peakRssMb = 0;

for (let rep = 1; rep <= REPS; rep++) {
  for (const connections of CONNECTIONS) {
    for (const s of scenarios) {
      // Interleaved, so drift in what else the machine does lands on every target alike.
      for (const [target, server, path] of targetsOf(s)) {
        const r = await runLoad(spec(s, server, connections, path), server);
        samples.push({ scenario: s.name, connections, rep, target, ...r });
      }
      for (const mode of ['extended', 'prepared'] as const) {
        const r = pgbench(s, connections, mode);
        samples.push({
          scenario: s.name,
          connections,
          rep,
          target: `pgbench ${mode}`,
          rps: r.tps,
          latencyAvg: r.latencyMs,
          errors: r.errors,
        });
      }
      const row = samples.filter(
        (x) => x.rep === rep && x.connections === connections && x.scenario === s.name,
      );
      log(
        `rep ${rep}/${REPS} c=${connections} ${s.name}: ${row.map((x) => `${x.target} ${x.rps.toFixed(0)}`).join(', ')}`,
      );
    }
  }
}

// Latency of one request at a time, by depth: keyset against OFFSET on one server (the floor on
// our database layer, which serves both), so the two differ only in the SQL. Timed here with a
// clock finer than autocannon's whole milliseconds; nothing else runs meanwhile.
log('depth sweep');
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
async function medianLatencyMs(url: string, count: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) =>
      httpGet(url, { agent, headers: requestHeaders() }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        res.resume().on('end', resolve);
      }).on('error', reject),
    );
    if (i >= 20) times.push(performance.now() - t0);
  }
  return median(times);
}
const sweep: { page: number; keysetP50: number; offsetP50: number }[] = [];
for (const p of SWEEP_PAGES) {
  const base = `${floorOurDriver.url}/v1/users?limit=${PAGE}`;
  const keyset = p === 1 ? base : `${base}&cursor=${cursors.get(p)}`;
  const offset = `${base}&offset=${(p - 1) * PAGE}`;
  const count = quick ? 100 : 400;
  sweep.push({
    page: p,
    keysetP50: await medianLatencyMs(keyset, count),
    offsetP50: await medianLatencyMs(offset, count),
  });
}
agent.destroy();
await db.end();

// ---------------------------------------------------------------- PGlite
log('PGlite start-up and memory');
const pglite: {
  service: string;
  firstStartMs: number;
  restartMs: number;
  idleRssMb: number;
  loadRssMb?: number;
  loadRps?: number;
}[] = [];
for (const svc of quick ? (['users'] as const) : (['users', 'shifts'] as const)) {
  const dir = mkdtempSync(join(tmpdir(), `shiftops-bench-pglite-${svc}-`));
  const env = { ...authEnv, DATA_DIR: dir, LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' };
  const argv = [`services/${svc}/dist/server.js`];
  const first = await startServer(`pglite-${svc}`, argv, env);
  await stopServer(first);
  const again = await startServer(`pglite-${svc}`, argv, env);
  await idleRss(again);
  const entry: (typeof pglite)[number] = {
    service: svc,
    firstStartMs: first.readyMs,
    restartMs: again.readyMs,
    idleRssMb: again.idleRssMb!,
  };
  if (svc === 'users') {
    // The demo data set: 300 users.
    const r = await runLoad(
      { ...spec(allScenarios[0]!, again, 10, allScenarios[0]!.path, quick ? 1 : 3), users: 300 },
      again,
    );
    entry.loadRssMb = again.peakRssMb;
    entry.loadRps = r.rps;
  }
  pglite.push(entry);
  await stopServer(again);
  rmSync(dir, { recursive: true, force: true });
}
await Promise.all(servers.map(stopServer));

// ---------------------------------------------------------------- results
const pick = (scenario: string, connections: number, target: Sample['target']) =>
  samples.filter(
    (x) => x.scenario === scenario && x.connections === connections && x.target === target,
  );
/** Median over repetitions of the ratio within each repetition, which ran back to back. */
function ratio(scenario: string, connections: number, a: Sample['target'], b: Sample['target']) {
  const xs = pick(scenario, connections, a);
  const ys = pick(scenario, connections, b);
  return median(xs.map((x, i) => x.rps / ys[i]!.rps));
}
const stat = (scenario: string, connections: number, target: Sample['target']) => {
  const xs = pick(scenario, connections, target);
  const rps = xs.map((x) => x.rps);
  return {
    rps: median(rps),
    rpsMin: Math.min(...rps),
    rpsMax: Math.max(...rps),
    p50: median(xs.map((x) => x.p50 ?? NaN)),
    p99: median(xs.map((x) => x.p99 ?? NaN)),
    latencyAvg: median(xs.map((x) => x.latencyAvg ?? NaN)),
    cpuUsPerRequest: median(xs.map((x) => x.cpuUsPerRequest ?? NaN)),
    errors: xs.reduce((n, x) => n + x.errors, 0),
  };
};

const results = scenarios.flatMap((s) =>
  CONNECTIONS.map((connections) => ({
    scenario: s.name,
    connections,
    ours: stat(s.name, connections, 'ours'),
    ...(poolOnly ? { poolOnly: stat(s.name, connections, 'ours, pool only') } : {}),
    floor: stat(s.name, connections, 'floor'),
    floorOurDriver: stat(s.name, connections, 'floor, our driver'),
    typical: stat(s.name, connections, 'typical'),
    ...(s.offsetPath ? { floorOffset: stat(s.name, connections, 'floor OFFSET') } : {}),
    pgbenchExtended: stat(s.name, connections, 'pgbench extended'),
    pgbenchPrepared: stat(s.name, connections, 'pgbench prepared'),
    authOff: stat(s.name, connections, 'ours, auth off'),
    authOnOverOff: ratio(s.name, connections, 'ours', 'ours, auth off'),
    oursOverFloor: ratio(s.name, connections, 'ours', 'floor'),
    oursOverSameDriverFloor: ratio(s.name, connections, 'ours', 'floor, our driver'),
    oursOverTypical: ratio(s.name, connections, 'ours', 'typical'),
    oursOverDbLimit: ratio(s.name, connections, 'ours', 'pgbench extended'),
    ...(poolOnly ? { pipeliningGain: ratio(s.name, connections, 'ours', 'ours, pool only') } : {}),
  })),
);
const at = (c: number) => results.filter((r) => r.connections === c);
const lowest = (xs: number[]) => Math.min(...xs);
const firstSweep = sweep[0]!;
const deepSweep = sweep.find((x) => x.page === DEEP_PAGE)!;
const ratios: Record<string, number> = {
  ours_over_floor: lowest(results.map((r) => r.oursOverFloor)),
  ours_over_same_driver_floor: lowest(results.map((r) => r.oursOverSameDriverFloor)),
  ours_over_typical: lowest(at(50).map((r) => r.oursOverTypical)),
  ours_over_typical_at_10: lowest(at(10).map((r) => r.oursOverTypical)),
  ours_over_db_limit: lowest(results.map((r) => r.oursOverDbLimit)),
  ours_over_db_limit_get_by_id: lowest(
    results.filter((r) => r.scenario === 'get user by id').map((r) => r.oursOverDbLimit),
  ),
  ...(poolOnly
    ? {
        pipelining_gain: lowest(results.map((r) => r.pipeliningGain ?? NaN)),
        pipelining_gain_get_by_id: lowest(
          results
            .filter((r) => r.scenario === 'get user by id')
            .map((r) => r.pipeliningGain ?? NaN),
        ),
      }
    : {}),
  auth_on_over_off: lowest(results.map((r) => r.authOnOverOff)),
  deep_over_first_page: deepSweep.keysetP50 / firstSweep.keysetP50,
  offset_deep_over_first_page: deepSweep.offsetP50 / firstSweep.offsetP50,
};

const machine = {
  date: new Date().toISOString(),
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: pgVersion,
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
};
const startup = {
  postgres: servers.map((s) => ({
    server: s.name,
    readyMs: Math.round(s.readyMs),
    idleRssMb: Math.round(s.idleRssMb ?? 0),
    loadRssMb: Math.round(s.peakRssMb),
  })),
  pglite: pglite.map((p) => ({
    ...p,
    firstStartMs: Math.round(p.firstStartMs),
    restartMs: Math.round(p.restartMs),
    idleRssMb: Math.round(p.idleRssMb),
    ...(p.loadRssMb ? { loadRssMb: Math.round(p.loadRssMb) } : {}),
  })),
};
const report = {
  machine,
  settings: {
    quick,
    repetitions: REPS,
    durationS: DURATION_S,
    connections: CONNECTIONS,
    poolMax: POOL_MAX,
    users: USERS,
    shifts: Number(counts.shifts),
    locations: LOCATIONS,
    pageSize: PAGE,
    deepPage: DEEP_PAGE,
  },
  seed: { cached: pgServer.seed.cached, ms: Math.round(seedMs) },
  ratios,
  results,
  depthSweep: sweep,
  startup,
  samples,
};

// ---------------------------------------------------------------- table
const n = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const spread = (s: { rps: number; rpsMin: number; rpsMax: number }) =>
  REPS > 1 ? `${n(s.rps)} (${n(s.rpsMin)}–${n(s.rpsMax)})` : n(s.rps);
const lat = (s: { p50: number; p99: number }) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
const lines = [
  `| scenario | conns | ours req/s | pool only | floor | floor, our driver | typical | pgbench ext / prep tps | p50 / p99 ms ours | floor, our driver | typical | ours/floor | ours/floor, our driver | ours/typical | ours/db | ours/pool only | ours/auth off | errors |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ...results.flatMap((r) => {
    const errors =
      r.ours.errors +
      r.authOff.errors +
      (r.poolOnly?.errors ?? 0) +
      r.floor.errors +
      r.floorOurDriver.errors +
      r.typical.errors +
      (r.floorOffset?.errors ?? 0);
    const row = `| ${r.scenario} | ${r.connections} | ${spread(r.ours)} | ${r.poolOnly ? spread(r.poolOnly) : '–'} | ${spread(r.floor)} | ${spread(r.floorOurDriver)} | ${spread(r.typical)} | ${n(r.pgbenchExtended.rps)} / ${n(r.pgbenchPrepared.rps)} | ${lat(r.ours)} | ${lat(r.floorOurDriver)} | ${lat(r.typical)} | ${r.oursOverFloor.toFixed(2)} | ${r.oursOverSameDriverFloor.toFixed(2)} | ${r.oursOverTypical.toFixed(2)} | ${r.oursOverDbLimit.toFixed(2)} | ${r.pipeliningGain?.toFixed(2) ?? '–'} | ${r.authOnOverOff.toFixed(2)} | ${errors} |`;
    if (!r.floorOffset) return [row];
    return [
      row,
      `| ↳ same page by OFFSET (floor) | ${r.connections} | | | ${spread(r.floorOffset)} | | | | | | | | | | | | | |`,
    ];
  }),
];
const table = lines.join('\n');
const us = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? n(x) : '–');
const cpuTable = [
  '| scenario | conns | ours | pool only | floor | floor, our driver | typical | ours / floor, our driver |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.scenario} | ${r.connections} | ${us(r.ours.cpuUsPerRequest)} | ${us(r.poolOnly?.cpuUsPerRequest)} | ${us(r.floor.cpuUsPerRequest)} | ${us(r.floorOurDriver.cpuUsPerRequest)} | ${us(r.typical.cpuUsPerRequest)} | ${(r.ours.cpuUsPerRequest / r.floorOurDriver.cpuUsPerRequest).toFixed(2)} |`,
  ),
].join('\n');
const sweepTable = [
  '| page | keyset p50 ms | OFFSET p50 ms |',
  '| ---: | ---: | ---: |',
  ...sweep.map((s) => `| ${s.page} | ${s.keysetP50.toFixed(2)} | ${s.offsetP50.toFixed(2)} |`),
].join('\n');
const startupTable = [
  '| server | database | start → /readyz 200 | idle RSS | RSS under load |',
  '| --- | --- | ---: | ---: | ---: |',
  ...startup.postgres.map(
    (s) => `| ${s.server} | PostgreSQL | ${s.readyMs} ms | ${s.idleRssMb} MB | ${s.loadRssMb} MB |`,
  ),
  ...startup.pglite.map(
    (p) =>
      `| ours-${p.service} | PGlite | ${p.restartMs} ms (first start ${p.firstStartMs} ms) | ${p.idleRssMb} MB | ${p.loadRssMb ? `${p.loadRssMb} MB` : '–'} |`,
  ),
].join('\n');

console.log(
  `\n${machine.date}, ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres}`,
);
console.log(
  `${quick ? 'quick' : 'full'} run: ${REPS} repetition(s) × ${DURATION_S} s, medians (min–max), ${counts.users} users, ${counts.shifts} shifts, ${pgServer.seed.cached ? 'copied from the cache' : 'seeded'} in ${(seedMs / 1000).toFixed(1)} s\n`,
);
console.log(table);
console.log(
  `\nServer CPU per request, µs (median):\n\n${cpuTable}\n\n${sweepTable}\n\n${startupTable}\n`,
);
console.log(
  Object.entries(ratios)
    .map(([k, v]) => `${k} = ${v.toFixed(2)}`)
    .join('\n'),
);

mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = args.json ?? join(root, 'bench/results', `${machine.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ ...report, tables: { main: table, cpu: cpuTable, depth: sweepTable, startup: startupTable } }, null, 2)}\n`,
);
log(`wrote ${file} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
loader.kill();
pgServer.stop();
process.exit(0);
