import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwksCache,
  type ExportedJWKSCache,
  type JWTVerifyGetKey,
} from 'jose';
import type { JsonWebKeySet } from '../config.js';

/** The verification keys are not available: no key set fetched yet and the JWKS unreachable. */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

export interface KeySource {
  getKey: JWTVerifyGetKey;
  /** Why no key can be served now, or undefined when keys are at hand. */
  unavailable(): Promise<string | undefined>;
  /**
   * The key set in use now (a version that changes whenever it is replaced) and until when it is
   * used without a refetch; undefined while there is none. Verified tokens are cached against it.
   */
  keySet(): { version: number; freshUntilMs: number } | undefined;
}

export function localKeys(jwks: JsonWebKeySet): KeySource {
  const getKey = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  const set = { version: 0, freshUntilMs: Infinity };
  return { getKey, unavailable: async () => undefined, keySet: () => set };
}

export interface RemoteKeyOptions {
  /** Keys older than this are fetched again before use (default 10 min). */
  cacheMaxAgeMs?: number;
  /** The least time between two fetches, whatever the reason (default 30 s). */
  cooldownMs?: number;
  timeoutMs?: number;
}

/**
 * The issuer's JWKS, fetched by jose (timeout, no redirects, validated) and cached. One rule
 * added to jose's remote set: when a refetch fails, the keys already cached keep verifying
 * tokens (jose would fail every request once the cache is older than its max age), so an issuer
 * outage only hurts a process that never got the keys. Refetches, for age or for an unknown
 * `kid`, happen at most once per cooldown and concurrent callers share one.
 */
export function remoteKeys(url: string, options: RemoteKeyOptions = {}): KeySource {
  const { cacheMaxAgeMs = 600_000, cooldownMs = 30_000, timeoutMs = 5000 } = options;
  // jose writes each fetched set here: { jwks, uat }.
  const cache = {} as Partial<ExportedJWKSCache>;
  const remote = createRemoteJWKSet(new URL(url), {
    timeoutDuration: timeoutMs,
    cooldownDuration: cooldownMs,
    cacheMaxAge: cacheMaxAgeMs,
    [jwksCache]: cache as Record<string, never>,
  });
  let local: { uat: number; getKey: JWTVerifyGetKey } | undefined;
  let lastAttempt = -Infinity;
  let lastError: string | undefined;
  let pending: Promise<void> | undefined;

  const current = () =>
    cache.uat !== undefined && cache.jwks ? { uat: cache.uat, jwks: cache.jwks } : undefined;
  const refresh = (): Promise<void> => {
    if (pending) return pending;
    if (Date.now() - lastAttempt < cooldownMs) return Promise.resolve();
    lastAttempt = Date.now();
    pending = remote
      .reload()
      .then(() => {
        lastError = undefined;
      })
      .catch((err: unknown) => {
        lastError = `JWKS ${url} unreachable: ${describe(err)}`;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  const localSet = (): JWTVerifyGetKey => {
    const c = current();
    if (!c) throw new KeysUnavailable(lastError ?? `JWKS ${url} not fetched yet`);
    if (local?.uat !== c.uat) local = { uat: c.uat, getKey: createLocalJWKSet(c.jwks) };
    return local.getKey;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const c = current();
    if (!c || Date.now() - c.uat >= cacheMaxAgeMs) await refresh();
    try {
      return await localSet()(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A kid we do not know: the issuer may have rotated its keys since we fetched them.
      const before = current()?.uat;
      await refresh();
      if (current()?.uat === before) throw err;
      return localSet()(header, token);
    }
  };
  return {
    getKey,
    keySet() {
      const c = current();
      return c && { version: c.uat, freshUntilMs: c.uat + cacheMaxAgeMs };
    },
    async unavailable() {
      if (!current()) await refresh();
      return current() ? undefined : (lastError ?? `JWKS ${url} not fetched yet`);
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof errors.JWKSTimeout) return 'timed out';
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
