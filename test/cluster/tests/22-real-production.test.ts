// 22. Production on real pods, its database outside the cluster: deploy/overlays/production as it
//     ships plus a site's edits (test/cluster/overlays/production-real: its own namespace, the
//     real-node placement, the images built here, the issuer's keys inline, the database egress
//     narrowed to the database's address). The database is a PostgreSQL server on this machine,
//     as a managed one would be: on the node IP, port 5432, password logins from the pod network
//     only, one database and one role per service, reached through the Secrets users-database and
//     shifts-database (DATABASE_URL), which the test creates as a secret store would.
//     - users and shifts run at production's 2 replicas on the real node, with production's
//       resources, under Pod Security "restricted"; each migrated its own schema into its own
//       database, connected from pod addresses as its own role;
//     - an admin of production's issuer creates a user and a shift through the Services and the
//       rows are in the server's databases; a token of the development issuer is refused (401);
//     - the database stopped: every pod turns unready and the Services lose their endpoints, no
//       container restarts; started again: all ready, and writes succeed again;
//     - production's hosts through the node's Ingress controller over TLS only, with the
//       certificates of the Secrets users-tls and shifts-tls (made by the test, as cert-manager
//       would): the API answers, the operations endpoints do not, plain HTTP is not served.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseAllDocuments } from 'yaml';
import { TokenIssuer } from '../../../packages/service-kit/src/auth/issuer.js';
import {
  startPostgresServer,
  type PostgresServer,
} from '../../../packages/service-kit/testing/index.js';
import {
  SERVICES,
  core,
  kubectl,
  kubectlOk,
  log,
  secs,
  waitRolledOut,
  waitUntil,
  type Service,
} from '../lib/cluster.js';
import {
  NODE_IP,
  POD_CIDR,
  allReady,
  appPods,
  ingressTlsUrl,
  ingressUrl,
  isReady,
  nodeName,
  podsOf,
  readyEndpoints,
  realNodeOrSkip,
  restartReport,
  restartsByPod,
  serviceUrl,
} from '../lib/realnode.js';
import { bearer } from '../lib/tokens.js';
import { httpGet, httpsGet } from '../lib/http.js';

const NS = 'shiftops-production-real';
const OVERLAY = 'test/cluster/overlays/production-real';
const DB_PORT = 5432;
const ADMIN = {
  userId: 'ad000000-0000-4000-8000-0000000000a2',
  role: 'admin',
  locations: [],
} as const;

interface Doc {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: { tls?: Array<{ hosts: string[]; secretName: string }> };
}

/** A self-signed certificate and key for one host (PEM), made with openssl in a temporary dir. */
function selfSigned(host: string): {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${host}`,
      '-addext',
      `subjectAltName=DNS:${host}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return {
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    certFile,
    keyFile,
  };
}

async function apply(yaml: string, selector?: string): Promise<void> {
  await kubectlOk(['apply', '--server-side', ...(selector ? ['-l', selector] : []), '-f', '-'], {
    input: yaml,
  });
}

async function createFromLiteral(kind: 'secret generic' | 'configmap', name: string, kv: string) {
  const manifest = await kubectlOk([
    'create',
    ...kind.split(' '),
    name,
    '-n',
    NS,
    kv,
    '--dry-run=client',
    '-o',
    'yaml',
  ]);
  await apply(manifest);
}

/** Both services at production's 2 ready pods (the HPA's minReplicas). */
const bothReady = async () => (await allReady('users', 2, NS)) && (await allReady('shifts', 2, NS));

describe(
  '22. production on real pods with its database outside the cluster',
  realNodeOrSkip(),
  () => {
    let server: PostgresServer | undefined;
    let issuer: TokenIssuer;
    const url = new Map<Service, string>();
    const passwords = new Map<Service, string>();
    /** Each service's production host and the certificate its Ingress's Secret holds. */
    const tls = new Map<Service, { host: string; cert: string }>();

    /**
     * SQL as the superuser in a database of the server, each on its own connection: none stays
     * open while the server is stopped and started (the last test).
     */
    async function sql<R extends pg.QueryResultRow>(
      db: Service | 'postgres',
      text: string,
      params: unknown[] = [],
    ): Promise<R[]> {
      const c = new pg.Client({ connectionString: server!.url.replace(/\/postgres$/, `/${db}`) });
      await c.connect();
      try {
        return (await c.query<R>(text, params)).rows;
      } finally {
        await c.end();
      }
    }

    async function post(svc: Service, body: object, authorization: string) {
      const res = await fetch(`${url.get(svc)}/v1/${svc}`, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    }

    before(async () => {
      // The managed database: reachable from the pod network with a password, per service.
      server = await startPostgresServer({
        port: DB_PORT,
        settings: { listen_addresses: `'127.0.0.1,${NODE_IP}'` },
        hba: SERVICES.map((s) => `host ${s} ${s}_app ${POD_CIDR} scram-sha-256`),
      }).catch((err: Error) => {
        throw new Error(
          `PostgreSQL on ${NODE_IP}:${DB_PORT} did not start (is something else listening on port ${DB_PORT} of every address?): ${err.message}`,
        );
      });
      for (const s of SERVICES) {
        const password = randomBytes(18).toString('base64url');
        passwords.set(s, password);
        await sql('postgres', `CREATE ROLE ${s}_app LOGIN PASSWORD '${password}'`);
        await sql('postgres', `CREATE DATABASE ${s} OWNER ${s}_app`);
        await sql('postgres', `REVOKE CONNECT ON DATABASE ${s} FROM PUBLIC`);
      }

      const built = await kubectlOk(['kustomize', OVERLAY]);
      const docs = parseAllDocuments(built).map((d) => d.toJSON() as Doc);
      const config = docs.find(
        (d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('users-config'),
      )!.data!;
      issuer = await TokenIssuer.create(config.AUTH_ISSUER!, config.AUTH_AUDIENCE!);

      await kubectlOk(['apply', '--server-side', '-k', 'deploy/crds']);
      await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
      // As the platform team applies production: namespace and RBAC first, then what the secret
      // store and the identity provider give, then everything.
      await apply(built, 'shiftops.dev/managed-by=platform');
      await createFromLiteral(
        'configmap',
        'production-issuer',
        `--from-literal=jwks.json=${JSON.stringify(issuer.jwks())}`,
      );
      // The Ingresses' certificates, as cert-manager would issue them into their Secrets.
      for (const s of SERVICES) {
        const ingress = docs.find((d) => d.kind === 'Ingress' && d.metadata.name === s);
        const { hosts, secretName } = ingress!.spec!.tls![0]!;
        const pair = selfSigned(hosts[0]!);
        await apply(
          await kubectlOk([
            'create',
            'secret',
            'tls',
            secretName,
            '-n',
            NS,
            `--cert=${pair.certFile}`,
            `--key=${pair.keyFile}`,
            '--dry-run=client',
            '-o',
            'yaml',
          ]),
        );
        tls.set(s, { host: hosts[0]!, cert: pair.cert });
      }
      for (const s of SERVICES) {
        await createFromLiteral(
          'secret generic',
          `${s}-database`,
          `--from-literal=DATABASE_URL=postgres://${s}_app:${passwords.get(s)}@${NODE_IP}:${DB_PORT}/${s}`,
        );
      }
      const t0 = Date.now();
      await apply(built);
      for (const s of SERVICES) await waitRolledOut(NS, s, 180_000);
      // The HPA's floor (production: minReplicas 2) brings the second pod.
      await waitUntil("production's 2 ready pods of each service", bothReady, {
        timeoutMs: 180_000,
        intervalMs: 1000,
      });
      log(`production on the real node: applied -> 2 + 2 pods ready in ${secs(Date.now() - t0)}`);
      for (const s of SERVICES) url.set(s, await serviceUrl(s, NS));
    });

    after(async () => {
      await kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s'], {
        timeoutMs: 150_000,
      });
      server?.destroy();
    });

    it("runs at production's replicas and resources on the real node, each service in its own database as its own role", async () => {
      const ns = await core().readNamespace({ name: NS });
      assert.equal(ns.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const s of SERVICES) {
        const pods = await podsOf(s, NS);
        assert.equal(pods.length, 2, `${s}: production's minReplicas`);
        for (const p of pods) {
          assert.equal(p.spec?.nodeName, nodeName(), `${p.metadata?.name} on the real node`);
          const c = p.spec!.containers[0]!;
          assert.deepEqual(c.resources?.requests, { cpu: '250m', memory: '256Mi' });
          assert.equal(c.resources?.limits?.memory, '256Mi', 'memory limit = request');
          assert.equal(
            c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef?.name,
            `${s}-database`,
          );
        }
      }
      const tables = new Map<Service, string[]>();
      for (const s of SERVICES) {
        const rows = await sql<{ t: string }>(
          s,
          "SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        );
        tables.set(
          s,
          rows.map((r) => r.t),
        );
      }
      log(`tables: users db ${tables.get('users')}; shifts db ${tables.get('shifts')}`);
      for (const [s, other] of [
        ['users', 'shifts'],
        ['shifts', 'users'],
      ] as const) {
        assert.ok(tables.get(s)!.includes(`${s}.${s}`), `${s} migrated its schema`);
        assert.ok(
          !tables.get(s)!.some((t) => t.startsWith(`${other}.`)),
          `nothing of ${other} in the ${s} database`,
        );
      }
      const sessions = await sql<{ db: string; role: string; addr: string }>(
        'postgres',
        "SELECT datname AS db, usename AS role, host(client_addr) AS addr FROM pg_stat_activity WHERE backend_type = 'client backend' AND usename LIKE '%\\_app'",
      );
      const podIps = new Set(
        (await Promise.all(SERVICES.map((s) => podsOf(s, NS)))).flat().map((p) => p.status!.podIP!),
      );
      for (const s of SERVICES) {
        const mine = sessions.filter((r) => r.db === s);
        assert.ok(mine.length > 0, `${s} holds connections to its database`);
        for (const r of mine) {
          assert.equal(r.role, `${s}_app`, `${s}'s database is used by ${s}'s role only`);
          assert.ok(podIps.has(r.addr), `connection from ${r.addr}, a pod of ours`);
        }
      }
      log(
        `sessions: ${sessions.length} (${sessions.map((r) => `${r.role}@${r.addr}`).join(', ')})`,
      );
    });

    it("an admin of production's issuer writes through the Services into the outside database; the development issuer is refused", async () => {
      const admin = `Bearer ${await issuer.token(ADMIN)}`;
      const email = `prod-${randomUUID().slice(0, 8)}@example.com`;
      const user = await post(
        'users',
        { email, firstName: 'Prod', lastName: 'Uction', role: 'employee', locationId: 3 },
        admin,
      );
      assert.equal(user.status, 201, user.body);
      const id = (JSON.parse(user.body) as { id: string }).id;
      const stored = await sql<{ email: string }>(
        'users',
        'SELECT email FROM users.users WHERE id = $1',
        [id],
      );
      assert.deepEqual(stored, [{ email }], 'the row is in the server outside the cluster');

      const shift = await post(
        'shifts',
        {
          userId: id,
          locationId: 3,
          position: 'server',
          startsAt: '2032-02-01T10:00:00.000Z',
          endsAt: '2032-02-01T18:00:00.000Z',
        },
        admin,
      );
      assert.equal(shift.status, 201, shift.body);
      const shiftId = (JSON.parse(shift.body) as { id: string }).id;
      const shifts = await sql<{ user_id: string }>(
        'shifts',
        'SELECT user_id FROM shifts.shifts WHERE id = $1',
        [shiftId],
      );
      assert.deepEqual(shifts, [{ user_id: id }]);

      for (const s of SERVICES) {
        const refused = await fetch(`${url.get(s)}/v1/${s}`, {
          headers: { authorization: await bearer(1) },
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(refused.status, 401, `${s}: a development-issuer token in production`);
        assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
      }
    });

    it("production's hosts through the Ingress controller over TLS only, with the certificates of their Secrets", async () => {
      const admin = `Bearer ${await issuer.token(ADMIN)}`;
      const rows: string[] = [];
      for (const s of SERVICES) {
        const { host, cert } = tls.get(s)!;
        const expected = new X509Certificate(cert).fingerprint256;
        // The controller picks the Ingress and its Secret up from its watch: poll, bounded.
        let api = await httpsGet(`${ingressTlsUrl()}/v1/${s}?limit=1`, host, cert, {
          authorization: admin,
        }).catch((e: Error) => e);
        await waitUntil(
          `${host} served over TLS`,
          async () => {
            api = await httpsGet(`${ingressTlsUrl()}/v1/${s}?limit=1`, host, cert, {
              authorization: admin,
            }).catch((e: Error) => e);
            return !(api instanceof Error) && api.status === 200;
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.ok(!(api instanceof Error));
        assert.equal(api.certificate, expected, `${host}: not the certificate of its Secret`);
        assert.ok(Array.isArray((JSON.parse(api.body) as { items: unknown }).items), api.body);
        const metrics = await httpsGet(`${ingressTlsUrl()}/metrics`, host, cert, {
          authorization: admin,
        });
        assert.equal(
          metrics.status,
          404,
          `${host}/metrics over the Ingress: ${metrics.body.slice(0, 200)}`,
        );
        const plain = await httpGet(`${ingressUrl()}/v1/${s}?limit=1`, {
          host,
          authorization: admin,
        });
        assert.equal(
          plain.status,
          404,
          `${host} in plain HTTP: ${plain.status} ${plain.body.slice(0, 200)}`,
        );
        rows.push(
          `${host}: TLS ${api.status} (certificate ${expected.slice(0, 17)}…), /metrics ${metrics.status}, plain HTTP ${plain.status}`,
        );
      }
      log(`production through the Ingress controller:\n${rows.join('\n')}`);
    });

    it('the database stopped: every pod turns unready, nothing restarts; started: ready again and writing', async () => {
      const before = await restartsByPod(NS);
      const t0 = Date.now();
      server!.stop();
      const stoppedMs = Date.now() - t0;
      await waitUntil(
        'no ready pod and no ready endpoint of users or shifts',
        async () => {
          for (const s of SERVICES) {
            if ((await podsOf(s, NS)).some(isReady)) return false;
            if ((await readyEndpoints(s, NS)).length > 0) return false;
          }
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const unreadyMs = Date.now() - t0;
      server!.start();
      const t1 = Date.now();
      await waitUntil('all 4 pods ready again', bothReady, { timeoutMs: 90_000, intervalMs: 500 });
      const readyMs = Date.now() - t1;
      const after = await restartsByPod(NS);
      assert.deepEqual(
        after,
        before,
        `the same pods, no container restart\n${await restartReport(await appPods(NS))}`,
      );
      const again = await post(
        'users',
        {
          email: `prod-${randomUUID().slice(0, 8)}@example.com`,
          firstName: 'After',
          lastName: 'Outage',
          role: 'employee',
          locationId: 3,
        },
        `Bearer ${await issuer.token(ADMIN)}`,
      );
      assert.equal(again.status, 201, again.body);
      log(
        `database stop (${secs(stoppedMs)}) -> every pod unready in ${secs(unreadyMs)}; start -> all ready in ${secs(readyMs)}; restarts 0`,
      );
    });
  },
);
