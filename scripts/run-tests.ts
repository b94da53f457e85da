// `npm run test:unit`: every workspace's tests with node's test runner, from TypeScript source
// (tsx plus the "source" export condition), so a test never runs a stale dist/.
// The PostgreSQL suites need a server: TEST_DATABASE_URL, or else one started here from this
// machine's binaries for the length of the run. Under CI=true a missing server fails the run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  postgresBinDir,
  startPostgresServer,
  type PostgresServer,
} from '../packages/service-kit/testing/postgres-server.js';

const defaultRoots = [
  'packages/service-kit/test',
  'services/users/test',
  'services/shifts/test',
  'cli/test',
  'deploy/test',
  'test/reliability',
  'bench/test',
  'scripts/test',
  'cluster/test',
  'cluster/images/test',
  'cluster/node/test',
  'test/schemathesis',
  'test/cluster/scale/test',
  'test/cluster/test',
];

function collect(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const files = (args.length ? args : defaultRoots)
  .flatMap((p) => (p.endsWith('.ts') ? [p] : collect(p)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${args.join(', ') || defaultRoots.join(', ')}`);
  process.exit(1);
}

let server: PostgresServer | undefined;
if (!process.env.TEST_DATABASE_URL) {
  if (postgresBinDir() || process.env.CI === 'true') {
    server = await startPostgresServer();
    process.env.TEST_DATABASE_URL = server.url;
    console.log(`PostgreSQL test server on port ${server.port}`);
  } else {
    console.warn('PostgreSQL binaries not found: the PostgreSQL suites will be skipped');
  }
}

const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: process.env },
);
server?.destroy();
process.exit(result.status ?? 1);
