// Loads PrometheusRule manifests into the test cluster's Prometheus (cluster/up.sh: the
// latency-autoscaling component's recording rule, which the adapter's config serves):
//   load-rules.ts <prometheus.yaml> <PrometheusRule.yaml>...
// Each rule's spec.groups is written to <name>.rules.yaml next to the config, and the config's
// rule_files names it (rules.ts). The caller reloads Prometheus (SIGHUP).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ruleFileOf, withRuleFiles, type PrometheusRule } from './rules.js';

const [configPath, ...manifests] = process.argv.slice(2);
if (!configPath || manifests.length === 0) {
  process.stderr.write('usage: load-rules.ts <prometheus.yaml> <PrometheusRule.yaml>...\n');
  process.exit(64);
}
const files = manifests.map((manifest) => {
  const { name, groups } = ruleFileOf(parse(readFileSync(manifest, 'utf8')) as PrometheusRule);
  const path = join(dirname(configPath), `${name}.rules.yaml`);
  writeFileSync(path, stringify({ groups }));
  return path;
});
const config = withRuleFiles(parse(readFileSync(configPath, 'utf8')) as object, files);
// By rename: Prometheus never reads half a file.
writeFileSync(`${configPath}.tmp`, stringify(config));
renameSync(`${configPath}.tmp`, configPath);
