// The services refuse to start without a token issuer (packages/service-kit/src/config.ts); this
// catches a missing or unsafe issuer configuration in an overlay before a rollout does.
// Used by validate.mjs for every overlay, and tested in deploy/test/auth-config.test.ts.

const SERVICES = ['users', 'shifts'];

/** name → value (or a description of where it comes from), for one container of a build. */
function environment(objects, container) {
  const env = new Map();
  for (const from of container.envFrom ?? []) {
    const cm = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name,
    );
    for (const [k, v] of Object.entries(cm?.data ?? {})) env.set(k, v);
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env.set(e.name, e.value);
    else if (e.valueFrom?.configMapKeyRef) {
      const { name, key } = e.valueFrom.configMapKeyRef;
      env.set(e.name, `(ConfigMap ${name} key ${key})`);
    } else if (e.valueFrom?.secretKeyRef) env.set(e.name, '(Secret)');
  }
  return env;
}

/** What is wrong with the authentication settings of the APIs in one overlay's output. */
export function authConfigProblems(objects, overlay) {
  const problems = [];
  for (const svc of SERVICES) {
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === svc);
    if (!d) continue;
    const env = environment(objects, d.spec.template.spec.containers[0]);
    const say = (m) => problems.push(`${overlay} ${svc}: ${m}`);
    if (env.get('AUTH') === 'disabled') say('AUTH=disabled (the images run NODE_ENV=production)');
    for (const k of ['AUTH_ISSUER', 'AUTH_AUDIENCE']) if (!env.get(k)) say(`${k} is not set`);
    const sources = ['AUTH_JWKS_URL', 'AUTH_JWKS_FILE', 'AUTH_JWKS'].filter((k) => env.has(k));
    if (sources.length !== 1) {
      say(`needs exactly one of AUTH_JWKS_URL, AUTH_JWKS_FILE, AUTH_JWKS (has ${sources.length})`);
    }
    if (overlay === 'production') {
      const url = env.get('AUTH_JWKS_URL') ?? '';
      if (!/^https:\/\//.test(url))
        say('production verifies against the issuer over https: set AUTH_JWKS_URL=https://…');
      if (!/^https:\/\//.test(env.get('AUTH_ISSUER') ?? ''))
        say('production needs an https AUTH_ISSUER');
      if (/localhost|\.invalid\b|dev-issuer/.test(`${env.get('AUTH_ISSUER')} ${url}`)) {
        say('production points at a development issuer');
      }
    }
  }
  return problems;
}
