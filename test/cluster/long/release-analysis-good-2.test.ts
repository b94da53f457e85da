// Good releases under per-pod noise, part 2 of 4 (lib/analysis.ts): each must pass analysis and
// roll out. A file of its own so each stays well inside the runner's per-file timeout; run.sh adds
// up the counts of all parts. Its own seed: its releases' pods differ from the other parts'.
import { describe } from 'node:test';
import { clusterOrSkip } from '../lib/cluster.js';
import { goodReleases } from '../lib/analysis.js';

describe('release analysis on kwok pods: good releases, part 2', clusterOrSkip(), () => {
  goodReleases(2, 102);
});
