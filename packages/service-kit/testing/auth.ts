import { TokenIssuer, type AuthConfig, type Principal } from '../src/index.js';

export const TEST_ISSUER = 'https://issuer.test.shiftops.invalid/';
export const TEST_AUDIENCE = 'shiftops';

/** An administrator who is no seeded user: what suites act as unless a test says otherwise. */
export const TEST_ADMIN: Principal = Object.freeze({
  userId: 'ad000000-0000-4000-8000-000000000001',
  role: 'admin',
  locations: Object.freeze([]),
});

let shared: Promise<TokenIssuer> | undefined;

/** One issuer per test process, with keys made in the process (never stored). */
export function testIssuer(): Promise<TokenIssuer> {
  shared ??= TokenIssuer.create(TEST_ISSUER, TEST_AUDIENCE);
  return shared;
}

/** config.auth verifying the test issuer's tokens. */
export async function testAuthConfig(): Promise<AuthConfig> {
  const issuer = await testIssuer();
  return {
    mode: 'enabled',
    issuer: issuer.issuer,
    audience: issuer.audience,
    keys: { kind: 'local', jwks: issuer.jwks() },
    clockToleranceS: 30,
    claimPrefix: '',
  };
}

/** The environment that points a service process at the test issuer. */
export async function testAuthEnv(): Promise<Record<string, string>> {
  const issuer = await testIssuer();
  return {
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS: JSON.stringify(issuer.jwks()),
  };
}

/** `{ authorization: 'Bearer …' }` for this caller (default: the test administrator). */
export async function bearer(
  principal: Principal = TEST_ADMIN,
): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await (await testIssuer()).token(principal)}` };
}
