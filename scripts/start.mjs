#!/usr/bin/env node
// `npm start`: both APIs on the embedded database with demo data, for a laptop. Each service is
// its own process, exactly as in a cluster; this only starts them, waits until both are ready,
// prints where they are with ready-to-use tokens from the development issuer, and passes Ctrl-C on.
//   DATA_DIR    root of the embedded databases: one directory per service under it (.data)
//   LOG_FORMAT  pretty (default on a terminal) or json (default otherwise): the services always
//               log JSON; pretty is pino-pretty applied here, for people
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PinoPretty } from 'pino-pretty';
import { devIssuer } from './dev-issuer.mjs';

const dataRoot = process.env.DATA_DIR || '.data';
const format = process.env.LOG_FORMAT || (process.stdout.isTTY ? 'pretty' : 'json');
if (!['pretty', 'json'].includes(format)) {
  console.error(`LOG_FORMAT=${format} is not a log format: set it to pretty or json`);
  process.exit(64);
}
const issuer = await devIssuer(dataRoot);

const services = [
  {
    name: 'users',
    port: process.env.USERS_PORT ?? '8081',
    ops: process.env.USERS_OPS_PORT ?? '9081',
  },
  {
    name: 'shifts',
    port: process.env.SHIFTS_PORT ?? '8082',
    ops: process.env.SHIFTS_OPS_PORT ?? '9082',
  },
];

const children = services.map(({ name, port, ops }) => {
  const child = spawn(process.execPath, [`services/${name}/dist/server.js`], {
    stdio: ['ignore', format === 'pretty' ? 'pipe' : 'inherit', 'inherit'],
    env: {
      // No load balancer in front on a laptop, so nothing to drain from.
      DRAIN_DELAY_MS: '0',
      ...issuer.env,
      ...process.env,
      PORT: port,
      DATA_DIR: join(dataRoot, name),
      OPS_PORT: ops,
    },
  });
  // One prettifier per service, so lines of the two never interleave mid-line.
  child.stdout?.pipe(
    PinoPretty({
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,version,service',
      messageFormat: '{service} {msg}',
    }),
  );
  return child;
});

let exiting = false;
for (const [i, child] of children.entries()) {
  child.on('exit', (code, signal) => {
    if (!exiting) {
      console.error(`${services[i].name} exited (${signal ?? code}); stopping the other service`);
      exiting = true;
      for (const c of children) c.kill('SIGTERM');
    }
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null))
      process.exit(code ?? 1);
  });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    exiting = true;
    for (const c of children) c.kill(signal);
  });
}

async function ready(opsPort) {
  for (;;) {
    try {
      if ((await fetch(`http://localhost:${opsPort}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
}

await Promise.all(services.map((s) => ready(s.ops)));
// Demo users 50, 10 and 1 (see scripts/token.mjs for the others).
const [admin, manager, employee] = await Promise.all([50, 10, 1].map((n) => issuer.token(n)));
const [u, s] = services.map((svc) => `http://localhost:${svc.port}`);
console.log(`
  users  API: ${u}/v1/users   (OpenAPI: /openapi.json)
  shifts API: ${s}/v1/shifts  (OpenAPI: /openapi.json)
  operations: http://localhost:${services[0].ops} and :${services[1].ops} (/livez /readyz /metrics /version)

  Tokens (12 h) from the development issuer in ${join(dataRoot, 'dev-issuer')}; paste into your shell:
    export ADMIN=${admin}
    export MANAGER=${manager}
    export EMPLOYEE=${employee}
  (user50@example.com, admin; user10@example.com, manager of location 1;
   user1@example.com, employee at location 2)

  curl -H "Authorization: Bearer $MANAGER" '${u}/v1/users?role=employee&limit=3'
  Another demo user: npm run -s token -- 42
  Ctrl-C stops both.
`);
