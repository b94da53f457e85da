// A PrometheusRule as the test cluster's Prometheus loads it: there is no Prometheus Operator
// here, so its spec.groups become a rule file and Prometheus' config names that file in
// rule_files, as the operator does for a Prometheus that selects the rule.

export interface PrometheusRule {
  kind?: string;
  metadata?: { name?: string };
  spec?: { groups?: { name: string; rules: unknown[] }[] };
}

/** The rule file (`groups:`) a PrometheusRule stands for, and the name it is known by. */
export function ruleFileOf(rule: PrometheusRule): { name: string; groups: { name: string }[] } {
  if (rule.kind !== 'PrometheusRule') throw new Error(`not a PrometheusRule: kind ${rule.kind}`);
  const name = rule.metadata?.name;
  if (!name) throw new Error('a PrometheusRule without metadata.name');
  const groups = rule.spec?.groups ?? [];
  if (groups.length === 0) throw new Error(`PrometheusRule ${name} has no spec.groups`);
  return { name, groups };
}

/**
 * `config` (a Prometheus config) with `files` in its rule_files after the ones already there,
 * each once: loading the same file twice changes nothing, and rules loaded before stay.
 */
export function withRuleFiles<T extends { rule_files?: string[] }>(config: T, files: string[]): T {
  const kept = config.rule_files ?? [];
  return { ...config, rule_files: [...kept, ...files.filter((f) => !kept.includes(f))] };
}
