// PrometheusRules into the test cluster's Prometheus (cluster/prometheus/): the rule file a
// PrometheusRule stands for, rule_files kept and extended, and the CLI up.sh runs on a config
// like kwokctl's, which promtool then accepts with the rule file it names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { ruleFileOf, withRuleFiles, type PrometheusRule } from '../prometheus/rules.js';

const repo = new URL('../../', import.meta.url).pathname;
const LATENCY_RULE = join(repo, 'deploy/components/latency-autoscaling/prometheusrule.yaml');
const shipped = parse(readFileSync(LATENCY_RULE, 'utf8')) as Required<PrometheusRule>;

describe('PrometheusRules loaded into the test cluster Prometheus', () => {
  it('a PrometheusRule stands for its spec.groups, under its name', () => {
    const file = ruleFileOf(shipped);
    assert.equal(file.name, 'shiftops-latency-autoscaling');
    assert.deepEqual(file.groups, shipped.spec.groups);
  });

  it('refuses what is not a PrometheusRule with groups, naming what is wrong', () => {
    assert.throws(
      () => ruleFileOf({ ...shipped, kind: 'ConfigMap' }),
      /not a PrometheusRule: kind ConfigMap/,
    );
    assert.throws(() => ruleFileOf({ ...shipped, metadata: {} }), /without metadata\.name/);
    assert.throws(
      () => ruleFileOf({ ...shipped, spec: { groups: [] } }),
      /shiftops-latency-autoscaling has no spec\.groups/,
    );
  });

  it('adds rule files after the ones there, each once', () => {
    const config = { global: { scrape_interval: '15s' }, rule_files: ['/a.yaml'] };
    assert.deepEqual(withRuleFiles(config, ['/b.yaml']), {
      global: { scrape_interval: '15s' },
      rule_files: ['/a.yaml', '/b.yaml'],
    });
    assert.deepEqual(withRuleFiles(config, ['/a.yaml']).rule_files, ['/a.yaml']);
    assert.deepEqual(withRuleFiles({}, ['/b.yaml']), { rule_files: ['/b.yaml'] });
    assert.deepEqual(config.rule_files, ['/a.yaml'], 'the input is left as it was');
  });

  const promtool = spawnSync('promtool', ['--version']).status === 0;
  it(
    'load-rules.ts writes the rule file and names it in the config: promtool accepts both, and a second run changes nothing',
    { skip: !promtool && process.env.CI !== 'true' ? 'promtool not installed' : false },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'prometheus-rules-'));
      try {
        const config = join(dir, 'prometheus.yaml');
        const kwokctl = {
          global: { scrape_interval: '15s', evaluation_interval: '15s' },
          scrape_configs: [{ job_name: 'etcd', static_configs: [{ targets: ['127.0.0.1:2379'] }] }],
        };
        writeFileSync(config, stringify(kwokctl));
        const load = () =>
          spawnSync(
            process.execPath,
            [
              '--import',
              'tsx',
              join(repo, 'cluster/prometheus/load-rules.ts'),
              config,
              LATENCY_RULE,
            ],
            { encoding: 'utf8', cwd: repo },
          );
        const first = load();
        assert.equal(first.status, 0, first.stderr);
        const rulesPath = join(dir, 'shiftops-latency-autoscaling.rules.yaml');
        const written = readFileSync(config, 'utf8');
        assert.deepEqual(parse(written), { ...kwokctl, rule_files: [rulesPath] });
        assert.deepEqual(parse(readFileSync(rulesPath, 'utf8')), { groups: shipped.spec.groups });
        const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
        assert.equal(check.status, 0, check.stdout + check.stderr);
        assert.match(check.stdout, /SUCCESS: 1 rules found/);
        assert.equal(load().status, 0);
        assert.equal(readFileSync(config, 'utf8'), written);
        const usage = spawnSync(
          process.execPath,
          ['--import', 'tsx', join(repo, 'cluster/prometheus/load-rules.ts'), config],
          { encoding: 'utf8', cwd: repo },
        );
        assert.equal(usage.status, 64);
        assert.match(
          usage.stderr,
          /usage: load-rules\.ts <prometheus\.yaml> <PrometheusRule\.yaml>/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
