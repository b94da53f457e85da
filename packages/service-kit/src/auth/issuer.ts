import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { JsonWebKeySet } from '../config.js';
import type { Principal } from './principal.js';

const ALG = 'RS256';

/**
 * The development issuer's identity: `npm start`, the local and staging overlays and the test
 * cluster trust it; production never does (deploy/scripts/auth-config.mjs).
 */
export const DEV_ISSUER = 'https://dev-issuer.shiftops.localhost/';
export const DEV_AUDIENCE = 'shiftops';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TokenOptions {
  /** Lifetime in seconds from now (negative: already expired). Default 12 h. */
  ttlS?: number;
  /** Not valid before now + this many seconds. */
  notBeforeS?: number;
  issuer?: string;
  audience?: string;
  /** Extra or replaced claims. */
  claims?: Record<string, unknown>;
  /** Sign with this key instead of the current one (e.g. a key not in the JWKS). */
  key?: SigningKey;
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
  };
}

/**
 * A small token issuer: the laptop's development issuer, the test cluster's, and the tests'.
 * Real deployments use a real OIDC provider (docs/access.md); this only signs.
 */
export class TokenIssuer {
  constructor(
    readonly issuer: string,
    readonly audience: string,
    private keys: SigningKey[],
  ) {}

  static async create(issuer: string, audience: string): Promise<TokenIssuer> {
    return new TokenIssuer(issuer, audience, [await generateSigningKey()]);
  }

  get currentKey(): SigningKey {
    return this.keys[0]!;
  }

  /** The public keys, newest first: what the services verify against. */
  jwks(): JsonWebKeySet {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** A new signing key; the old one stays published (`keep`) or is dropped at once. */
  async rotate({ keep = true } = {}): Promise<SigningKey> {
    const key = await generateSigningKey();
    this.keys = keep ? [key, ...this.keys] : [key];
    return key;
  }

  async token(principal: Principal, options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const key = options.key ?? this.currentKey;
    const jwt = new SignJWT({
      role: principal.role,
      locations: [...principal.locations],
      ...options.claims,
    })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setSubject(principal.userId)
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.ttlS ?? 12 * 3600));
    if (options.notBeforeS !== undefined) jwt.setNotBefore(now + options.notBeforeS);
    return jwt.sign(key.privateKey);
  }

  /**
   * The development issuer kept under `dir` (private key mode 0600, jwks.json next to it), made
   * on first use. Lives with the data directory so its tokens stay valid across restarts.
   */
  static async persistent(dir: string, issuer: string, audience: string): Promise<TokenIssuer> {
    const file = join(dir, 'signing-key.jwk.json');
    let key: SigningKey;
    try {
      const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK & { kid: string };
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
      key = {
        kid: jwk.kid,
        privateKey: (await importJWK(jwk, ALG)) as CryptoKey,
        publicJwk: { ...publicJwk, use: 'sig' },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      key = await generateSigningKey();
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const privateJwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg: ALG };
      await writeFile(file, JSON.stringify(privateJwk), { mode: 0o600 });
    }
    const result = new TokenIssuer(issuer, audience, [key]);
    await writeFile(join(dir, 'jwks.json'), JSON.stringify(result.jwks(), null, 2));
    return result;
  }
}

/**
 * The caller behind demo user i, as both services seed it (users/repository.ts seed): id
 * md5('shiftops-user-' || i), admin every 50th, manager every 10th, location 1 + i % max(5, n/100).
 */
export function demoPrincipal(i: number, users = 300): Principal {
  const hex = createHash('md5').update(`shiftops-user-${i}`).digest('hex');
  const userId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const role = i % 50 === 0 ? 'admin' : i % 10 === 0 ? 'manager' : 'employee';
  return { userId, role, locations: [1 + (i % Math.max(5, Math.floor(users / 100)))] };
}
