// 5. Manual rollback to an older revision restores that revision's image.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  STAGING,
  clusterOrSkip,
  ensureApplied,
  explain,
  getDeployment,
  imageOf,
  imageRepo,
  isRolledOut,
  kubectlOk,
  log,
  parseJson,
  shiftops,
  waitRolledOut,
} from '../lib/cluster.js';

const NS = STAGING;
const SVC = 'shifts';

interface Revision {
  revision: number;
  image: string;
  live: boolean;
}

describe('5. manual rollback to an older revision', clusterOrSkip(), () => {
  before(ensureApplied);

  it('rollback --to-revision N (not the previous one) restores revision N image', async () => {
    await waitRolledOut(NS, SVC);
    const tags = ['0.5.0', '0.6.0', '0.7.0'];
    for (const tag of tags) {
      const r = await shiftops(['deploy', SVC, tag, '--quiet']);
      assert.equal(r.code, 0, explain(r, `shiftops deploy ${tag}`));
    }
    const h = await shiftops(['history', SVC, '--json']);
    assert.equal(h.code, 0, explain(h));
    const revisions = parseJson<{ revisions: Revision[] }>(h).revisions;
    const target = revisions.find((x) => x.image === `${imageRepo(SVC)}:0.5.0`);
    assert.ok(target, JSON.stringify(revisions));
    assert.equal(revisions.find((x) => x.live)?.image, `${imageRepo(SVC)}:0.7.0`);

    const r = await shiftops(['rollback', SVC, '--to-revision', String(target.revision), '--json']);
    assert.equal(r.code, 0, explain(r, 'shiftops rollback'));
    assert.equal(parseJson(r).outcome, 'rolled-back');
    const d = await getDeployment(NS, SVC);
    assert.equal(imageOf(d), `${imageRepo(SVC)}:0.5.0`);
    assert.ok(isRolledOut(d), JSON.stringify(d.status));

    // kubectl agrees: the live revision's template has 0.5.0, and the change-cause says why.
    const history = await kubectlOk(['-n', NS, 'rollout', 'history', `deploy/${SVC}`]);
    log(`kubectl rollout history deploy/${SVC}:\n${history.trim()}`);
    const last = history.trim().split('\n').pop() ?? '';
    assert.match(last, new RegExp(`rollback.*revision ${target.revision}|to revision`, 'i'));
    const after = parseJson<{ revisions: Revision[] }>(await shiftops(['history', SVC, '--json']));
    assert.equal(after.revisions.find((x) => x.live)?.image, `${imageRepo(SVC)}:0.5.0`);
  });
});
