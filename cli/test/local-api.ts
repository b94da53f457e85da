// Real sockets on 127.0.0.1 standing in for an API server, and a kubeconfig that points at one:
// the CLI's own client code runs unchanged against them.
import http from 'node:http';
import type net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A kubeconfig in `dir` whose one context talks to `server` with a bearer token, namespace ns. */
export function kubeconfigFor(dir: string, server: string, name = 'kc'): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: local-api, context: {cluster: c, user: u, namespace: ns}}]
current-context: local-api
`,
  );
  return path;
}

/** An HTTP server speaking as the API server; close() also cuts the watches it holds open. */
export async function serveApi(
  handler: http.RequestListener,
): Promise<{ url: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
