// Watches across a flaky API server, on a real HTTP server on 127.0.0.1 speaking the list/watch
// protocol: a connection cut mid-watch resumes from the last resourceVersion, 410 Gone re-lists,
// and a watch that goes silent is dropped after the liveness limit and re-established. Each outage
// is reported once, lost then back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { connect } from '../src/kube/client.js';
import { watchSet, type ConnectionEvent } from '../src/kube/watch.js';
import { kubeconfigFor, serveApi } from './local-api.js';

const scratch = mkdtempSync(join(tmpdir(), 'shiftops-watch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const pod = (rv: string, phase: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'users-1', namespace: 'ns', resourceVersion: rv },
  status: { phase },
});
const line = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;

describe('watch reconnects', () => {
  it('resumes after a cut, re-lists after 410 Gone, and re-establishes a silent watch', async () => {
    const requests: string[] = [];
    let watches = 0;
    const api = await serveApi((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const rv = url.searchParams.get('resourceVersion') ?? '';
      if (url.searchParams.get('watch') !== 'true') {
        const lists = requests.filter((r) => r.startsWith('list')).length;
        requests.push('list');
        res.setHeader('content-type', 'application/json');
        const at = lists === 0 ? '10' : '20';
        res.end(
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'PodList',
            metadata: { resourceVersion: at },
            items: [pod(at, lists === 0 ? 'Pending' : 'Running')],
          }),
        );
        return;
      }
      watches++;
      requests.push(
        `watch rv=${rv} bookmarks=${url.searchParams.get('allowWatchBookmarks')} timeout=${url.searchParams.get('timeoutSeconds')}`,
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      if (watches === 1) {
        // One event, then the connection is cut mid-stream.
        res.write(line('MODIFIED', pod('11', 'Running')));
        setTimeout(() => req.socket.destroy(), 100);
      } else if (watches === 2) {
        res.end(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }));
      } else if (watches === 3) {
        res.flushHeaders(); // then silence: no event, no bookmark, no end
      } else {
        res.write(line('MODIFIED', pod('21', 'Succeeded')));
      }
    });
    const kubeconfig = kubeconfigFor(scratch, api.url);
    const kube = connect({ kubeconfig, requestTimeoutSeconds: 1 });
    const events: ConnectionEvent[] = [];
    const set = watchSet<V1Pod>(kube, {
      path: '/api/v1/namespaces/ns/pods',
      list: () => kube.core.listNamespacedPod({ namespace: 'ns' }),
      what: 'pods',
      onChange: () => {},
      onFatal: (e) => assert.fail(e.message),
      onConnection: (e) => events.push(e),
    });
    const t0 = Date.now();
    while (set.items()[0]?.status?.phase !== 'Succeeded' && Date.now() - t0 < 15_000)
      await new Promise((r) => setTimeout(r, 50));
    await set.stop();
    api.close();

    assert.equal(set.items()[0]?.metadata?.resourceVersion, '21', JSON.stringify(requests));
    assert.deepEqual(requests, [
      'list',
      'watch rv=10 bookmarks=true timeout=1',
      // cut after the event at 11: resume there, no re-list
      'watch rv=11 bookmarks=true timeout=1',
      // 410 Gone: re-list, then watch from the new list's version
      'list',
      'watch rv=20 bookmarks=true timeout=1',
      // silent for the liveness limit (1 s): dropped and re-established from the same version
      'watch rv=20 bookmarks=true timeout=1',
    ]);
    assert.deepEqual(
      // The cut's own wording (here "aborted") is Node's; ours is the prefix.
      events.map((e) =>
        e.kind === 'lost'
          ? `lost at ${e.resourceVersion}: ${e.reason.replace(/ \(.*\)$/, ' (…)')}`
          : 'back',
      ),
      [
        'lost at 11: connection cut mid-watch (…)',
        'back',
        'lost at 20: no event or bookmark for 1s',
        'back',
      ],
    );
  });

  // A kube-apiserver that has just started can deny requests until its RBAC caches are filled.
  for (const { name, cutFirst, fatal } of [
    {
      name: 'a 403 while reconnecting after a cut is part of the outage',
      cutFirst: true,
      fatal: false,
    },
    { name: 'a 403 with no outage before it is final', cutFirst: false, fatal: true },
  ]) {
    it(name, async () => {
      let watches = 0;
      const api = await serveApi((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        res.setHeader('content-type', 'application/json');
        if (url.searchParams.get('watch') !== 'true') {
          res.end(
            JSON.stringify({
              kind: 'PodList',
              metadata: { resourceVersion: '10' },
              items: [pod('10', 'Pending')],
            }),
          );
          return;
        }
        watches++;
        if (cutFirst && watches === 1) {
          res.writeHead(200);
          res.write(line('MODIFIED', pod('11', 'Running')));
          setTimeout(() => req.socket.destroy(), 100);
        } else if (watches <= 3) {
          res.statusCode = 403;
          res.end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden' }));
        } else {
          res.writeHead(200);
          res.write(line('MODIFIED', pod('21', 'Succeeded')));
        }
      });
      const kube = connect({
        kubeconfig: kubeconfigFor(scratch, api.url),
        requestTimeoutSeconds: 5,
      });
      const events: string[] = [];
      let denied: string | undefined;
      const set = watchSet<V1Pod>(kube, {
        path: '/api/v1/namespaces/ns/pods',
        list: () => kube.core.listNamespacedPod({ namespace: 'ns' }),
        what: 'pods',
        onChange: () => {},
        onFatal: (e) => (denied = e.kind),
        onConnection: (e) => events.push(e.kind),
      });
      const t0 = Date.now();
      while (
        denied === undefined &&
        set.items()[0]?.status?.phase !== 'Succeeded' &&
        Date.now() - t0 < 15_000
      )
        await new Promise((r) => setTimeout(r, 50));
      await set.stop();
      api.close();
      if (fatal) {
        assert.equal(denied, 'forbidden');
        assert.equal(watches, 1);
        assert.deepEqual(events, []);
      } else {
        assert.equal(denied, undefined);
        assert.equal(set.items()[0]?.status?.phase, 'Succeeded');
        assert.equal(watches, 4);
        assert.deepEqual(events, ['lost', 'restored']);
      }
    });
  }
});
