import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.js';

export interface TokenCacheBounds {
  /** Most tokens kept; the least recently used goes first. */
  maxEntries: number;
  /** Longest a verified token is served without verifying it again. */
  maxAgeMs: number;
}

export const DEFAULT_TOKEN_CACHE: TokenCacheBounds = { maxEntries: 10_000, maxAgeMs: 60_000 };

/**
 * Until when a token verified at `nowMs` may be answered from the cache: the first of its `exp`
 * plus the clock tolerance (when jose would start refusing it), the cache's own age bound, and
 * the end of the key set's use without a refetch (so a key the issuer withdrew stops working as
 * soon as it would without the cache).
 */
export function entryExpiry(
  nowMs: number,
  expS: number,
  clockToleranceS: number,
  maxAgeMs: number,
  keysFreshUntilMs: number,
): number {
  return Math.min((expS + clockToleranceS) * 1000, nowMs + maxAgeMs, keysFreshUntilMs);
}

interface Entry {
  principal: Principal;
  /** The key set the token was verified against. */
  keysVersion: number;
  expiresAtMs: number;
}

/**
 * Verified tokens, keyed by the whole Authorization value that carried each (the token's signature
 * included, so a value that differs in any byte is verified on its own), with the principal read
 * from their claims. An entry is used only while it has not expired and the key set is the one it
 * was verified against.
 */
export class VerifiedTokens {
  private readonly entries: LRUCache<string, Entry>;

  constructor(bounds: TokenCacheBounds) {
    this.entries = new LRUCache({ max: bounds.maxEntries });
  }

  get(token: string, keysVersion: number, nowMs: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.keysVersion !== keysVersion || nowMs >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  set(token: string, entry: Entry, nowMs: number): void {
    if (entry.expiresAtMs > nowMs) this.entries.set(token, entry);
  }
}
