// The invariant across a reconnect, on a real HTTP server on 127.0.0.1 speaking list/watch: the
// rollout watch is cut, and while it is down someone else deploys another image. On reconnect the
// CLI stops with "refused" (exit 64) naming their image and change-cause, and sends no write: it
// neither reports their rollout as its own nor rolls their release back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CliError, connect } from '../src/kube/client.js';
import { watchRollout } from '../src/kube/rollout.js';
import type { ConnectionEvent } from '../src/kube/watch.js';
import { deployment } from './fixtures.js';
import { kubeconfigFor, serveApi } from './local-api.js';

const scratch = mkdtempSync(join(tmpdir(), 'shiftops-guard-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('a reconnect cannot turn into a write over someone else’s release', () => {
  it('stops, naming their release, when the template changed while the watch was down', async () => {
    const ours = deployment({ image: 'ghcr.io/acme/users:1.8.0', specReplicas: 2, generation: 2 });
    ours.metadata!.resourceVersion = '10';
    const theirs = deployment({
      image: 'ghcr.io/acme/users:1.9.0',
      specReplicas: 2,
      generation: 3,
      annotations: { 'kubernetes.io/change-cause': 'bob: shiftops deploy users 1.9.0' },
    });
    theirs.metadata!.resourceVersion = '12';
    const writes: string[] = [];
    const deploymentWatches: string[] = [];
    const api = await serveApi((req, res) => {
      if (req.method !== 'GET') writes.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const kind = url.pathname.split('/').pop();
      const watching = url.searchParams.get('watch') === 'true';
      res.setHeader('content-type', 'application/json');
      if (!watching) {
        const items = kind === 'deployments' ? [ours] : [];
        res.end(
          JSON.stringify({
            kind: 'List',
            apiVersion: 'v1',
            metadata: { resourceVersion: '10' },
            items,
          }),
        );
        return;
      }
      res.writeHead(200);
      res.flushHeaders();
      if (kind !== 'deployments') return; // quiet watches, held open
      deploymentWatches.push(url.searchParams.get('resourceVersion') ?? '');
      if (deploymentWatches.length === 1) setTimeout(() => req.socket.destroy(), 200);
      else res.write(`${JSON.stringify({ type: 'MODIFIED', object: theirs })}\n`);
    });
    const kubeconfig = kubeconfigFor(scratch, api.url);
    const kube = connect({ kubeconfig, requestTimeoutSeconds: 5 });
    const events: ConnectionEvent[] = [];
    let err: unknown;
    try {
      await watchRollout(kube, {
        deployment: ours,
        minGeneration: 2,
        readyTimeoutMs: 60_000,
        timeoutMs: 15_000,
        onProgress: () => {},
        onConnection: (e) => events.push(e),
      });
    } catch (e) {
      err = e;
    }
    api.close();

    assert.ok(err instanceof CliError, `rejected with a CliError, got ${String(err)}`);
    assert.equal(err.kind, 'refused');
    assert.match(
      err.message,
      /the images of users changed while this CLI was watching \(now users=ghcr\.io\/acme\/users:1\.9\.0; change-cause: bob: shiftops deploy users 1\.9\.0\)/,
    );
    assert.deepEqual(deploymentWatches, ['10', '10'], 'resumed from the last resourceVersion');
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.what}`),
      ['lost deployments', 'restored deployments'],
    );
    assert.deepEqual(writes, [], 'no write was sent');
  });
});
