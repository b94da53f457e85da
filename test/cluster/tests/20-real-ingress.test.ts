// 20. The seed's hosts through a real Ingress controller (Traefik's Kubernetes Ingress provider on
//     the host, 127.0.0.1, cluster/node/up.sh), as `curl --resolve container1.7shifts:PORT:127.0.0.1`
//     reaches them: users on container1.7shifts and shifts on container2.7shifts, the
//     Ingresses' status address, no operations endpoint (/metrics, /readyz, /livez) on the
//     Ingress, unknown hosts not served, the APIs' own authentication and an employee's scope
//     through it. Zero failed requests through the Ingress during rollouts: 11-real-zero-loss.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { adminConfig, log, table } from '../lib/cluster.js';
import { httpGet, type Answer } from '../lib/http.js';
import { SEED, ensureSeed, ingressHost, ingressUrl, realNodeOrSkip } from '../lib/realnode.js';
import { bearer } from '../lib/tokens.js';
import { demoPrincipal } from '../../../packages/service-kit/src/auth/issuer.js';

/** One GET through the Ingress controller for a virtual host. */
const viaIngress = (host: string, path: string, authorization?: string): Promise<Answer> =>
  httpGet(`${ingressUrl()}${path}`, { host, ...(authorization ? { authorization } : {}) });

const json = <T>(a: Answer): T => JSON.parse(a.body) as T;

describe(
  '20. the seed hosts through the Ingress controller on the real node',
  realNodeOrSkip(),
  () => {
    const hosts = { users: '', shifts: '' };
    let admin = '';
    before(async () => {
      await ensureSeed();
      hosts.users = await ingressHost('users');
      hosts.shifts = await ingressHost('shifts');
      admin = await bearer(50);
    });

    it("the seed's hosts: users on container1.7shifts, shifts on container2.7shifts", async () => {
      assert.equal(hosts.users, 'container1.7shifts');
      assert.equal(hosts.shifts, 'container2.7shifts');
      const users = await viaIngress(hosts.users, '/v1/users?limit=3', admin);
      assert.equal(users.status, 200, users.body);
      const u = json<{ items: Array<{ id: string; email: string }> }>(users);
      assert.equal(u.items.length, 3);
      assert.ok(u.items.every((x) => typeof x.email === 'string'));
      const shifts = await viaIngress(hosts.shifts, '/v1/shifts?limit=3', admin);
      assert.equal(shifts.status, 200, shifts.body);
      const s = json<{ items: Array<{ id: string; startsAt: string }> }>(shifts);
      assert.equal(s.items.length, 3);
      assert.ok(s.items.every((x) => !Number.isNaN(Date.parse(x.startsAt))));
      // Each host goes to its own service: the users host has no /v1/shifts route of its app.
      const wrong = await viaIngress(hosts.users, '/v1/shifts?limit=3', admin);
      assert.equal(wrong.status, 404, wrong.body);
      log(`through ${ingressUrl()}: ${hosts.users} -> users, ${hosts.shifts} -> shifts`);
    });

    it('the Ingresses report the controller address (status.loadBalancer)', async () => {
      const net = adminConfig().makeApiClient(NetworkingV1Api);
      for (const name of ['users', 'shifts']) {
        const ing = await net.readNamespacedIngress({ name, namespace: SEED });
        assert.equal(ing.spec?.ingressClassName, 'nginx');
        assert.deepEqual(
          (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip),
          ['127.0.0.1'],
          `${name}: ${JSON.stringify(ing.status)}`,
        );
      }
    });

    it('no operations endpoint on the Ingress; unknown hosts are not served', async () => {
      const rows: string[][] = [['host', 'path', 'status']];
      for (const host of [hosts.users, hosts.shifts]) {
        for (const path of ['/metrics', '/readyz', '/livez', '/version']) {
          const a = await viaIngress(host, path, admin);
          rows.push([host, path, String(a.status)]);
          // Not routed at all: the controller's own 404, never the service's answer.
          assert.equal(a.status, 404, `${host}${path}: ${a.status} ${a.body.slice(0, 200)}`);
          assert.doesNotMatch(
            a.body,
            /http_requests_total|# HELP/,
            `${host}${path} served metrics`,
          );
        }
      }
      const unknown = await viaIngress('unknown.7shifts', '/v1/users?limit=1', admin);
      rows.push(['unknown.7shifts', '/v1/users', String(unknown.status)]);
      assert.equal(unknown.status, 404);
      log(table(rows));
    });

    it('authentication through the Ingress: no token 401 problem+json; a bad one 401', async () => {
      const none = await viaIngress(hosts.users, '/v1/users?limit=1');
      assert.equal(none.status, 401, none.body);
      assert.match(none.type, /application\/problem\+json/);
      const bad = await viaIngress(hosts.shifts, '/v1/shifts?limit=1', 'Bearer not-a-token');
      assert.equal(bad.status, 401, bad.body);
    });

    it("an employee sees only their own shifts through the Ingress, not another employee's", async () => {
      // Demo users 1 and 2 are employees (issuer.ts demoPrincipal).
      const me = demoPrincipal(1);
      const other = demoPrincipal(2);
      assert.equal(me.role, 'employee');
      assert.equal(other.role, 'employee');
      const theirs = await viaIngress(
        hosts.shifts,
        `/v1/shifts?userId=${other.userId}&limit=5`,
        admin,
      );
      assert.equal(theirs.status, 200, theirs.body);
      const otherShifts = json<{ items: Array<{ id: string; userId: string }> }>(theirs).items;
      assert.ok(otherShifts.length > 0, `demo user 2 has no shifts: ${theirs.body}`);
      const token = await bearer(me);
      const item = await viaIngress(hosts.shifts, `/v1/shifts/${otherShifts[0]!.id}`, token);
      assert.equal(item.status, 404, `employee read another's shift: ${item.body}`);
      assert.match(item.type, /application\/problem\+json/);
      const list = await viaIngress(
        hosts.shifts,
        `/v1/shifts?userId=${other.userId}&limit=5`,
        token,
      );
      assert.equal(list.status, 200, list.body);
      assert.deepEqual(json<{ items: unknown[] }>(list).items, []);
      const own = await viaIngress(hosts.shifts, '/v1/shifts?limit=20', token);
      assert.equal(own.status, 200, own.body);
      const mine = json<{ items: Array<{ userId: string }> }>(own).items;
      assert.ok(mine.length > 0, 'demo user 1 has no shifts');
      assert.ok(
        mine.every((s) => s.userId === me.userId),
        'an employee listed shifts that are not theirs',
      );
    });
  },
);
