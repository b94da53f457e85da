// The laptop's development token issuer, shared by `npm start` and `npm run token`: an RS256 key
// pair kept under the data directory (made on first use), its public keys in jwks.json for the
// services, and the demo users' claims as both services seed them.
import { join } from 'node:path';
import { DEV_AUDIENCE, DEV_ISSUER, TokenIssuer, demoPrincipal } from '@shiftops/service-kit/issuer';
/** The issuer kept in <dataRoot>/dev-issuer (dataRoot: DATA_DIR, as for the databases). */
export async function devIssuer(dataRoot = process.env.DATA_DIR || '.data') {
  const dir = join(dataRoot, 'dev-issuer');
  const issuer = await TokenIssuer.persistent(dir, DEV_ISSUER, DEV_AUDIENCE);
  return {
    env: {
      AUTH_ISSUER: DEV_ISSUER,
      AUTH_AUDIENCE: DEV_AUDIENCE,
      AUTH_JWKS_FILE: join(dir, 'jwks.json'),
    },
    /** A 12-hour token for demo user n (user<n>@example.com). */
    token: (n) => issuer.token(demoPrincipal(n)),
    principal: (n) => demoPrincipal(n),
  };
}
