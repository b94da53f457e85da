// Access tokens for the APIs in the test cluster. The local and staging overlays trust the
// development issuer (DEV_ISSUER) and read its public keys from the ConfigMap
// shiftops-dev-issuer (key jwks.json) in their namespace, which cluster/seed/apply.sh makes; this
// is the same issuer `npm start`, `npm run token` and cluster:up's SHIFTOPS_TOKEN use (key pair
// under .data/dev-issuer, made on first use, never in git).
import { join } from 'node:path';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  TokenIssuer,
  demoPrincipal,
} from '../../../packages/service-kit/src/auth/issuer.js';
import type { Principal } from '../../../packages/service-kit/src/auth/principal.js';
import { REPO } from './cluster.js';

let issuer: Promise<TokenIssuer> | undefined;
export function devIssuer(): Promise<TokenIssuer> {
  issuer ??= TokenIssuer.persistent(
    join(process.env.DATA_DIR || join(REPO, '.data'), 'dev-issuer'),
    DEV_ISSUER,
    DEV_AUDIENCE,
  );
  return issuer;
}

/** `Authorization` header value for a caller: demo user n (as seeded) or any principal. */
export async function bearer(who: number | Principal): Promise<string> {
  const principal = typeof who === 'number' ? demoPrincipal(who) : who;
  return `Bearer ${await (await devIssuer()).token(principal)}`;
}
