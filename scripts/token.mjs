#!/usr/bin/env node
// `npm run -s token -- <n | userN@example.com>`: a 12-hour access token from the development
// issuer for demo user n (admin every 50th, manager every 10th, employee otherwise).
import { devIssuer } from './dev-issuer.mjs';

const arg = process.argv[2] ?? '';
const n = Number(/^(?:user)?(\d+)(?:@example\.com)?$/.exec(arg)?.[1]);
if (!Number.isInteger(n) || n < 1 || n > 300) {
  process.stderr.write(
    'usage: npm run -s token -- <n>   a token for demo user n (1-300), e.g. 42 or user42@example.com\n' +
      '       user50, user100, … are admins; user10, user20, … managers; the rest employees\n',
  );
  process.exit(64);
}
const issuer = await devIssuer();
const p = issuer.principal(n);
process.stderr.write(
  `user${n}@example.com: ${p.role}, location ${p.locations.join(', ')}, id ${p.userId}\n`,
);
process.stdout.write(`${await issuer.token(n)}\n`);
