import { errors, jwtVerify } from 'jose';
import type { AuthConfig } from '../config.js';
import { HttpProblem } from '../http/problems.js';
import { KeysUnavailable, localKeys, remoteKeys, type KeySource } from './keys.js';
import { principalFromClaims, type Principal } from './principal.js';
import {
  DEFAULT_TOKEN_CACHE,
  entryExpiry,
  VerifiedTokens,
  type TokenCacheBounds,
} from './token-cache.js';

type Enabled = Extract<AuthConfig, { mode: 'enabled' }>;

// Asymmetric algorithms only: a shared-secret HS256 token can never verify, and jose never
// accepts alg "none" in jwtVerify.
const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];
const REALM = 'shiftops';
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** RFC 6750 §3: the challenge, with error and error_description when a token was presented. */
function challenge(error?: string, description?: string): string {
  const params = [`realm="${REALM}"`];
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description.replace(/["\\]/g, "'")}"`);
  return `Bearer ${params.join(', ')}`;
}

export const unauthorized = (detail: string, error?: string) =>
  new HttpProblem(
    'unauthorized',
    detail,
    {},
    { 'www-authenticate': challenge(error, error && detail) },
  );

export const forbidden = (detail: string) =>
  new HttpProblem(
    'forbidden',
    detail,
    {},
    {
      'www-authenticate': challenge('insufficient_scope', detail),
    },
  );

/** Why a token was refused, in words that say nothing about its contents. */
function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet';
    if (err.claim === 'iss') return 'the token was issued by another issuer';
    if (err.claim === 'aud') return 'the token is meant for another audience';
    return `the token's ${err.claim} claim is invalid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token was signed with an unknown key';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token signing algorithm is not allowed';
  return 'the token is malformed';
}

export interface Verifier {
  /** The caller behind an Authorization header; throws a 401/403/503 HttpProblem otherwise. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** The caller behind an Authorization header verified before and still valid, or undefined. */
  cached(authorization: string | undefined): Principal | undefined;
  /** Why tokens cannot be verified now (for /readyz), or undefined. */
  unavailable(): Promise<string | undefined>;
}

export interface VerifierOptions {
  /** Least time between two JWKS fetches (remote keys). */
  cooldownMs?: number;
  /** Bounds of the verified-token cache. */
  cache?: TokenCacheBounds;
  /** Where the keys come from, instead of config.keys (tests). */
  keys?: KeySource;
  /** The clock, in epoch milliseconds (tests). */
  now?: () => number;
}

export function createVerifier(config: Enabled, opts: VerifierOptions = {}): Verifier {
  const keys: KeySource =
    opts.keys ??
    (config.keys.kind === 'remote'
      ? remoteKeys(config.keys.url, {
          cacheMaxAgeMs: config.keys.cacheMaxAgeS * 1000,
          ...(opts.cooldownMs === undefined ? {} : { cooldownMs: opts.cooldownMs }),
        })
      : localKeys(config.keys.jwks));
  const now = opts.now ?? Date.now;
  const bounds = opts.cache ?? DEFAULT_TOKEN_CACHE;
  // Verifying an RS256 signature costs far more CPU than the rest of a request: a client sends
  // the same token for many requests, so each token is verified once per key set and bound.
  const verified = new VerifiedTokens(bounds);
  const baseOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: ALGORITHMS,
    clockTolerance: config.clockToleranceS,
    requiredClaims: ['exp'],
  };
  // Entries are keyed by the whole Authorization value, which holds the whole token: a hit needs
  // no parsing of the header (the profiles showed the Bearer pattern on every request).
  const lookup = (authorization: string, nowMs: number) => {
    const set = keys.keySet();
    return set && verified.get(authorization, set.version, nowMs);
  };
  return {
    unavailable: () => keys.unavailable(),
    cached(authorization) {
      return authorization ? lookup(authorization, now()) : undefined;
    },
    async authenticate(authorization) {
      if (!authorization) throw unauthorized('send an access token: Authorization: Bearer <token>');
      const token = BEARER.exec(authorization)?.[1];
      if (!token) {
        throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
      }
      const nowMs = now();
      const hit = lookup(authorization, nowMs);
      if (hit) return hit;
      const before = keys.keySet();
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, keys.getKey, {
          ...baseOptions,
          currentDate: new Date(nowMs),
        }));
      } catch (err) {
        if (err instanceof KeysUnavailable) {
          throw new HttpProblem(
            'service-unavailable',
            'the token issuer keys cannot be fetched; retry shortly',
            {},
            { 'retry-after': '5' },
          );
        }
        throw unauthorized(reason(err), 'invalid_token');
      }
      const principal = principalFromClaims(payload, config.claimPrefix);
      if ('error' in principal) throw forbidden(principal.error);
      // Cached only when the key set did not change while verifying (before is undefined on the
      // first fetch): the entry names the set the signature was checked against.
      const after = keys.keySet();
      if (after && (!before || before.version === after.version)) {
        const expiresAtMs = entryExpiry(
          nowMs,
          payload.exp as number,
          config.clockToleranceS,
          bounds.maxAgeMs,
          after.freshUntilMs,
        );
        verified.set(authorization, { principal, keysVersion: after.version, expiresAtMs }, nowMs);
      }
      return principal;
    },
  };
}

/** AUTH=disabled (never in production): every caller is an administrator. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({
  userId: '00000000-0000-0000-0000-000000000000',
  role: 'admin',
  locations: Object.freeze([]),
});
