// An API server that never answers, on real sockets on 127.0.0.1: a TCP server that accepts and
// stays silent (plain HTTP: the request is never answered; HTTPS: the TLS handshake never ends).
// Every call ends with a timeout naming the server and the fix, and the CLI exits 75 instead of
// hanging.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliError, connect, explain } from '../src/kube/client.js';
import { getDeployment } from '../src/commands/common.js';
import { watchSet } from '../src/kube/watch.js';
import type { ConnectionEvent } from '../src/kube/watch.js';
import { promote } from '../src/commands/promote.js';
import { Output } from '../src/output.js';
import { parseCommandLine } from '../src/args.js';
import { kubeconfigFor as localKubeconfig } from './local-api.js';

const cliDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const scratch = mkdtempSync(join(tmpdir(), 'shiftops-timeouts-'));

/** Accepts every connection and never writes a byte. */
function silentServer(): Promise<{ port: number; accepted: () => number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        accepted: () => accepted,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

const kubeconfigFor = (server: string, name = 'kc') => localKubeconfig(scratch, server, name);

let silent: Awaited<ReturnType<typeof silentServer>>;
before(async () => {
  silent = await silentServer();
});
after(() => {
  silent.close();
  rmSync(scratch, { recursive: true, force: true });
});

async function timed<T>(p: Promise<T>): Promise<{ ms: number; err: unknown }> {
  const t0 = Date.now();
  try {
    await p;
    return { ms: Date.now() - t0, err: undefined };
  } catch (err) {
    return { ms: Date.now() - t0, err };
  }
}

describe('an API server that accepts and never answers', () => {
  it('a plain-HTTP call times out after --request-timeout, naming the server and the fix', async () => {
    const server = `http://127.0.0.1:${silent.port}`;
    const kube = connect({ kubeconfig: kubeconfigFor(server), requestTimeoutSeconds: 1 });
    const before = silent.accepted();
    const { ms, err } = await timed(getDeployment(kube, 'users'));
    assert.ok(silent.accepted() > before, 'the request reached the silent server');
    assert.ok(err instanceof CliError, `a CliError, got ${String(err)}`);
    assert.equal(err.kind, 'timeout');
    assert.equal(err.mayHaveChanged, false);
    assert.ok(ms >= 900 && ms < 5000, `gave up after ${ms} ms, expected about 1 s`);
    const message = explain(err, kube);
    assert.match(message, /^reading deployment users: the API server did not answer in time/);
    assert.ok(message.includes(server), message);
    assert.match(message, /context local-api/);
    assert.match(message, /nothing was changed/);
    assert.match(message, /--request-timeout/);
  });

  it('an HTTPS call whose TLS handshake never ends times out on connect', async () => {
    const kube = connect({
      kubeconfig: kubeconfigFor(`https://127.0.0.1:${silent.port}`, 'tls'),
      requestTimeoutSeconds: 1,
    });
    const { ms, err } = await timed(getDeployment(kube, 'users'));
    assert.ok(err instanceof CliError && err.kind === 'timeout', String(err));
    assert.ok(ms < 5000, `gave up after ${ms} ms`);
  });

  it('a watch whose response never starts is reported lost and retried, not left hanging', async () => {
    const kube = connect({
      kubeconfig: kubeconfigFor(`http://127.0.0.1:${silent.port}`, 'watch'),
      requestTimeoutSeconds: 1,
    });
    const events: ConnectionEvent[] = [];
    const set = watchSet(kube, {
      path: '/api/v1/namespaces/ns/pods',
      // A list that succeeds at once, so only the watch request meets the silent server.
      list: () =>
        Promise.resolve({
          apiVersion: 'v1',
          kind: 'PodList',
          metadata: { resourceVersion: '5' },
          items: [],
        }),
      what: 'pods',
      onChange: () => {},
      onFatal: (e) => assert.fail(e.message),
      onConnection: (e) => events.push(e),
    });
    const t0 = Date.now();
    while (events.length === 0 && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 50));
    await set.stop();
    assert.equal(events[0]?.kind, 'lost', JSON.stringify(events));
    assert.equal(events[0]?.kind === 'lost' && events[0].resourceVersion, '5');
    assert.ok(Date.now() - t0 < 3000, 'noticed within the request timeout');
  });

  it('the CLI exits 75 with the server in the message, well before any OS TCP timeout', async () => {
    const server = `http://127.0.0.1:${silent.port}`;
    const kubeconfig = kubeconfigFor(server, 'cli');
    const t0 = Date.now();
    const r = await new Promise<{ code: number | null; stderr: string; stdout: string }>(
      (resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            join(cliDir, 'src/main.ts'),
            'status',
            'users',
            '--kubeconfig',
            kubeconfig,
            '--request-timeout',
            '1s',
          ],
          { cwd: cliDir, env: { ...process.env, NODE_OPTIONS: '' } },
        );
        let stderr = '';
        let stdout = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('exit', (code) => {
          clearTimeout(kill);
          resolve({ code, stderr, stdout });
        });
      },
    );
    assert.equal(r.code, 75, `exit ${r.code}; stderr: ${r.stderr}`);
    assert.ok(r.stderr.includes(server), r.stderr);
    assert.match(r.stderr, /did not answer in time/);
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
  });

  it('promote reports a silent source as a timeout (75) in its one JSON document, changing nothing', async () => {
    const server = `http://127.0.0.1:${silent.port}`;
    const kubeconfig = kubeconfigFor(server, 'promote');
    const parsed = parseCommandLine([
      'promote',
      'users',
      '--from',
      'staging',
      '--to',
      'production',
      '--kubeconfig',
      kubeconfig,
      '--request-timeout',
      '1s',
      '--json',
    ]);
    assert.ok(parsed.ok && parsed.command.name === 'promote', JSON.stringify(parsed));
    let stdout = '';
    const out = new Output(
      { json: true, quiet: false, tty: false },
      { write: (t: string) => (stdout += t) },
      { write: () => true },
    );
    const outcome = await promote(parsed.global, out, parsed.command);
    assert.deepEqual(outcome, { kind: 'api-timeout' });
    const doc = JSON.parse(stdout) as {
      outcome: string;
      error: string;
      exitCode: number;
      source: { namespace: string };
    };
    assert.equal(doc.outcome, 'error');
    assert.equal(doc.exitCode, 75);
    assert.equal(doc.source.namespace, 'staging');
    assert.match(
      doc.error,
      /^source staging: checking permissions: the API server did not answer in time/,
    );
    assert.ok(doc.error.includes(server), doc.error);
  });
});
