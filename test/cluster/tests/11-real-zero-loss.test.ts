// 11. Zero failed requests on real pods: steady load from this machine to the users Service's
//     ClusterIP (kube-proxy on the real node) and, at the same time, through the Ingress
//     controller on the seed's host (Traefik, to the pods' addresses), a new TCP connection per
//     request, every response and every connection error counted, during a good rolling update
//     of 2 replicas and during an automatic rollback of a never-ready release. Any failure on
//     either path fails the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  explain,
  getDeployment,
  imageOf,
  log,
  secs,
  shiftops,
  sleep,
  waitRolledOut,
} from '../lib/cluster.js';
import {
  IMAGE,
  SEED,
  ensureSeed,
  ingressHost,
  ingressUrl,
  isReady,
  patchHpa,
  podsOf,
  realNodeOrSkip,
  serviceUrl,
} from '../lib/realnode.js';
import { Traffic, describeTraffic } from '../lib/traffic.js';

const SVC = 'users';
// 50 requests a second to the Service and 25 through the Ingress, at most 8 in flight each, 2 s
// timeout each: bounded, and enough to see a request land on every pod state a rollout goes through.
const LOAD = { rate: 50, concurrency: 8, timeoutMs: 2000, maxMs: 240_000 };
const INGRESS_LOAD = { ...LOAD, rate: 25 };

describe('11. zero failed requests during rollouts on real pods', realNodeOrSkip(), () => {
  let restore: (() => Promise<void>) | undefined;
  before(async () => {
    await ensureSeed();
    restore = await patchHpa(SVC, { minReplicas: 2 });
    await waitRolledOut(SEED, SVC, 120_000);
  });
  after(async () => {
    await restore?.();
  });

  async function underLoad<T>(what: string, fn: () => Promise<T>) {
    const path = '/v1/users?limit=5';
    const traffic = Traffic.start(`${await serviceUrl(SVC)}${path}`, LOAD);
    const host = await ingressHost(SVC);
    const viaIngress = Traffic.start(`${ingressUrl()}${path}`, { ...INGRESS_LOAD, host });
    await sleep(3000); // steady before the change
    const value = await fn();
    await sleep(3000); // and after it
    const [result, ingress] = await Promise.all([traffic.stop(), viaIngress.stop()]);
    log(`${what}, Service: ${describeTraffic(result)}`);
    log(`${what}, Ingress (${host}): ${describeTraffic(ingress)}`);
    return { value, result, ingress };
  }

  it('good rolling update of 2 replicas (1.1.0): every request answered', async () => {
    const before = (await podsOf(SVC)).filter(isReady).map((p) => p.metadata!.name!);
    assert.equal(before.length, 2, `2 ready replicas before: ${before.join(', ')}`);
    const current = imageOf(await getDeployment(SEED, SVC));
    const tag = current === IMAGE(SVC, '1.1.0') ? '1.0.0' : '1.1.0';
    const {
      value: r,
      result,
      ingress,
    } = await underLoad(`rolling update to ${tag}`, () =>
      shiftops(['deploy', SVC, tag, '--json'], { namespace: SEED }),
    );
    assert.equal(r.code, 0, explain(r));
    const after = (await podsOf(SVC)).filter(isReady).map((p) => p.metadata!.name!);
    assert.equal(after.length, 2);
    assert.deepEqual(
      after.filter((n) => before.includes(n)),
      [],
      'both pods were replaced',
    );
    assert.ok(result.sent >= 200, `only ${result.sent} requests sent`);
    assert.equal(result.failed, 0, describeTraffic(result));
    assert.ok(ingress.sent >= 100, `only ${ingress.sent} requests sent through the Ingress`);
    assert.equal(ingress.failed, 0, describeTraffic(ingress));
    log(`rollout took ${secs(r.ms)}`);
  });

  it('automatic rollback of 1.2.0 (never ready) with 2 replicas: every request answered', async () => {
    const previous = imageOf(await getDeployment(SEED, SVC));
    const {
      value: r,
      result,
      ingress,
    } = await underLoad('automatic rollback of 1.2.0', () =>
      shiftops(['deploy', SVC, '1.2.0', '--json'], { namespace: SEED }),
    );
    assert.equal(r.code, 1, explain(r));
    assert.equal(imageOf(await getDeployment(SEED, SVC)), previous);
    assert.ok(result.sent >= 1000, `only ${result.sent} requests sent`);
    assert.equal(result.failed, 0, describeTraffic(result));
    assert.ok(ingress.sent >= 500, `only ${ingress.sent} requests sent through the Ingress`);
    assert.equal(ingress.failed, 0, describeTraffic(ingress));
    log(`deploy -> rolled back took ${secs(r.ms)}`);
  });
});
