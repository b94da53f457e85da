import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { testAuthEnv } from './auth.js';
import { freePort } from './postgres-server.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request on a new connection (no keep-alive), so "connection refused" really means the
 * listener is closed and not that a pooled socket was reused.
 */
export function http(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    /** Sent as it is, instead of body as JSON: for bodies that are not valid JSON. */
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload =
      init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        agent: false,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...init.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface RunningService {
  url: string;
  /** The operations port: /livez, /readyz, /metrics, /version. */
  opsUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  logs: () => string;
}

/**
 * Starts services/<name>/src/server.ts as its own process, verifying the test issuer's tokens
 * (testing/auth.ts) unless `env` says otherwise, and waits until `waitFor` (default /readyz) on
 * the operations port answers 200.
 */
export async function startService(
  name: 'users' | 'shifts',
  env: Record<string, string>,
  { waitFor = '/readyz', readyTimeoutMs = 60_000 } = {},
): Promise<RunningService> {
  const port = await freePort();
  const opsPort = await freePort();
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', `services/${name}/src/server.ts`],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        ...(await testAuthEnv()),
        ...env,
        PORT: String(port),
        OPS_PORT: String(opsPort),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const url = `http://127.0.0.1:${port}`;
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up:\n${output}`);
    try {
      if ((await http(`${opsUrl}${waitFor}`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after ${readyTimeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }
  return { url, opsUrl, child, exited, logs: () => output };
}
