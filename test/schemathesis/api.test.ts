// schemathesis (an independent, property-based HTTP client) against each service's served OpenAPI
// document: every check, every phase (examples, coverage, fuzzing, stateful through the declared
// links), on PGlite and on PostgreSQL. The service runs as its own process, as in production.
// Zero failures is the bar; each run prints how many cases it sent.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  bearer,
  createTestDatabase,
  postgresUrl,
  startService,
} from '../../packages/service-kit/testing/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// Fixed seed and a bounded number of cases per operation: the same run every time, in bounded time.
const SEED = '20261201';
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '25';

/**
 * The credential for the document's bearerAuth scheme (schemathesis.toml reads it from
 * SHIFTOPS_TEST_BEARER): the test administrator's token, startService pointing each service at
 * the test issuer, so every operation is in scope. Passed as the scheme's value, not as a raw
 * header, so schemathesis' ignored_auth check can send requests without it and expect a 401.
 */
async function bearerToken(): Promise<string> {
  return (await bearer()).authorization.replace(/^Bearer /, '');
}

const installed = spawnSync('bash', [join(here, 'install.sh')], { encoding: 'utf8' });
const schemathesis = installed.status === 0 ? installed.stdout.trim() : undefined;
const skipAll =
  schemathesis || process.env.CI === 'true'
    ? false
    : `schemathesis could not be installed: ${installed.stderr}`;

const scratch = mkdtempSync(join(tmpdir(), 'schemathesis-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(url: string): Promise<{ code: number | null; out: string }> {
  const token = await bearerToken();
  const args = [
    '--config-file',
    join(here, 'schemathesis.toml'),
    'run',
    `${url}/openapi.json`,
    '--url',
    url,
    '--checks',
    'all',
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--max-examples',
    MAX_EXAMPLES,
    '--seed',
    SEED,
    '--workers',
    '1',
    '--request-timeout',
    '10',
    '--no-color',
  ];
  return new Promise((resolve) => {
    const child = spawn(schemathesis!, args, {
      cwd: scratch,
      env: { ...process.env, SHIFTOPS_TEST_BEARER: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 540_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('schemathesis', { skip: skipAll }, () => {
  for (const backend of ['pglite', 'postgres'] as const) {
    for (const service of ['users', 'shifts'] as const) {
      it(`${service} on ${backend}: every check and phase, 0 failures`, async (t) => {
        const env: Record<string, string> = { LOG_LEVEL: 'warn', DEMO_DATA: 'true' };
        if (backend === 'postgres') {
          const server = postgresUrl();
          if (!server) return t.skip('no PostgreSQL server (set TEST_DATABASE_URL)');
          const db = await createTestDatabase(server);
          t.after(() => db.drop());
          env['DATABASE_URL'] = db.url;
        } else {
          env['DATA_DIR'] = join(scratch, `${service}-pglite`);
        }
        const svc = await startService(service, env, { readyTimeoutMs: 180_000 });
        t.after(async () => {
          svc.child.kill('SIGTERM');
          await svc.exited;
        });
        const started = Date.now();
        const { code, out } = await run(svc.url);
        const cases = /(\d+) generated/.exec(out)?.[1];
        const seconds = Math.round((Date.now() - started) / 1000);
        const failures = /(\d+) failures?/.exec(out.slice(out.lastIndexOf('SUMMARY')))?.[1] ?? '0';
        t.diagnostic(
          `schemathesis ${service} on ${backend}: ${cases} cases, ${failures} failures, ${seconds} s`,
        );
        console.log(
          `schemathesis ${service} on ${backend}: ${cases} cases, ${failures} failures, ${seconds} s`,
        );
        assert.ok(Number(cases) > 0, `no test cases ran:\n${out}`);
        assert.equal(code, 0, out.slice(-20_000));
      });
    }
  }
});
