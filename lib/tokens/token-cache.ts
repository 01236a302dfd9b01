import type { KeyObject } from 'node:crypto'
import type { CognitoAccessTokenPayload } from '../types.js'
import { ExpiringCache, tailIndex } from '../util/expiring-cache.js'
import { deepFreeze } from '../util/freeze.js'
import { MAX_TOKEN_LENGTH, unverifiedPayload } from './jws.js'
import type { JwksKeyStore } from './jwks.js'

/**
 * The verified-access-token cache and the sign-out list of one verifier:
 * - a hit requires the exact token string (the map is indexed by a number made from its last characters, and the
 *   whole token is compared);
 * - an entry leaves at `exp` + clockTolerance, and stands only while the key store holds the very key that
 *   verified it: a JWKS fetch that removes or replaces that kid drops the entry;
 * - bounded (least recently used out first); failures are never cached;
 * - only tokens in canonical base64url are cached, so the one entry per signature is the one a sign-out drops.
 */

/**
 * Hashing a whole 1 KB token string on every request would cost more than the rest of the lookup: the index is a
 * number made from the token's last characters (of its signature), and a hit requires the whole token to be equal.
 */
const INDEX_CHARACTERS = 8
/** Default number of verified access tokens kept per process. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000
/** Signed-out access tokens remembered per process (each until it expires); the oldest leave first beyond this. */
export const REVOKED_TOKENS_MAX = 10_000
/** Cognito access tokens live at most one day: a signed-out token is never remembered longer than that. */
const MAX_ACCESS_TOKEN_LIFETIME = 24 * 3600
/** Distinct repeated claim values (`scope`) shared between cached tokens. */
const INTERNED_MAX = 256
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** A cached access token that passed every check, and what must still hold for that to stand. */
export interface VerifiedAccessToken {
  /** The exact token: a hit requires equality with it. */
  readonly token: string
  /** Deep-frozen: the same object is handed to every request that presents the token. */
  readonly claims: CognitoAccessTokenPayload
  readonly kid: string
  /** The key that verified the signature: the entry is dropped when a JWKS fetch removes or replaces it. */
  readonly key: KeyObject
  /** The key store (of its user pool) that holds `key`. */
  readonly keys: JwksKeyStore
}

/** Where a token sits in the verified-token cache (see INDEX_CHARACTERS). */
export function cacheIndex (token: string): number {
  return tailIndex(token, INDEX_CHARACTERS)
}

/** A bounded intern table: the one copy of a repeated string value (the table starts over when full). */
export function interner (): (value: string) => string {
  const table = new Map<string, string>()
  return (value) => {
    const known = table.get(value)
    if (known !== undefined) return known
    if (table.size >= INTERNED_MAX) table.clear()
    table.set(value, value)
    return value
  }
}

/**
 * The claims of a verified access token as the cache keeps them: deep-frozen, and the values every token of this
 * client repeats (`iss`, `client_id`, `scope`, interned; `token_use`, checked before) sharing one string each,
 * so that a cached token holds only what is its own.
 */
export function keptClaims (claims: Record<string, unknown>, intern: (value: string) => string): CognitoAccessTokenPayload {
  claims.token_use = 'access'
  for (const name of ['iss', 'client_id', 'scope']) {
    const value = claims[name]
    if (typeof value === 'string') claims[name] = intern(value)
  }
  return deepFreeze(claims) as CognitoAccessTokenPayload
}

/** Signed-out tokens are keyed by their signature bytes: a re-encoding of the same signature is the same token. */
function signatureKey (signaturePart: string): string {
  return Buffer.from(signaturePart, 'base64url').toString('base64url')
}

export class VerifiedTokenCache {
  /** The key stores of every user pool, and their generations as last seen. */
  readonly #keyStores: readonly JwksKeyStore[]
  readonly #generations: number[]
  readonly #tolerance: number
  readonly #now: () => number
  readonly #verified: ExpiringCache<VerifiedAccessToken, number>
  /** Signed-out access tokens, keyed by their signature bytes (base64url), until they expire. */
  readonly #revoked: ExpiringCache<true>
  /**
   * Signed-out sign-ins, by `origin_jti`: every access token issued from the same sign-in (the ones before each
   * refresh too) shares it. Kept a day: after a sign-out no new token of it is issued, and none lives longer.
   */
  readonly #revokedOrigins: ExpiringCache<true>

  /** `now` in epoch seconds. */
  constructor (keyStores: readonly JwksKeyStore[], options: { maxEntries: number, clockTolerance: number, now: () => number }) {
    this.#keyStores = keyStores
    this.#generations = keyStores.map((keys) => keys.generation)
    this.#tolerance = options.clockTolerance
    this.#now = options.now
    this.#verified = new ExpiringCache(options.maxEntries, options.now)
    this.#revoked = new ExpiringCache(REVOKED_TOKENS_MAX, options.now)
    this.#revokedOrigins = new ExpiringCache(REVOKED_TOKENS_MAX, options.now)
  }

  /** Drops what a key store's rotation invalidated, when any store's generation moved since the last look. */
  #checkGenerations (): void {
    for (let i = 0; i < this.#keyStores.length; i++) {
      if ((this.#keyStores[i] as JwksKeyStore).generation !== this.#generations[i]) {
        this.#forgetRemovedKeys()
        return
      }
    }
  }

  get size (): number {
    return this.#verified.size
  }

  get revokedCount (): number {
    return this.#revoked.size
  }

  /**
   * The entry of exactly `token` when it still stands. Every hit checks the key-set generation first: a JWKS fetch
   * that removed or replaced a key has dropped the entries that key vouched for before any lookup.
   */
  get (token: string): VerifiedAccessToken | undefined {
    this.#checkGenerations()
    if (token.length > MAX_TOKEN_LENGTH) return undefined
    const entry = this.#verified.get(cacheIndex(token))
    return entry !== undefined && entry.token === token ? entry : undefined
  }

  /**
   * Whether the token with this signature, or the sign-in it comes from (`origin_jti`), or its `jti`, was signed out
   * (and has not expired since).
   */
  isRevoked (signaturePart: string, canonical: boolean, originJti: unknown, jti?: unknown): boolean {
    this.#checkGenerations()
    if (this.#revokedOrigins.size > 0) {
      if (typeof originJti === 'string' && this.#revokedOrigins.get(originJti) !== undefined) return true
      if (typeof jti === 'string' && this.#revokedOrigins.get(jti) !== undefined) return true
    }
    if (this.#revoked.size === 0) return false
    return this.#revoked.get(canonical ? signaturePart : signatureKey(signaturePart)) !== undefined
  }

  /**
   * Refuses every access token of one sign-in (`origin_jti`, taken from verified claims by the caller; or the one
   * token of a `jti`) from now on, for a day or `until` (epoch seconds), in this process: the tokens from before each refresh too. Their cache entries are dropped (one pass
   * over the cache: a sign-out is rare, a lookup on every request is not).
   */
  revokeOrigin (originJti: string, until?: number): void {
    const known = this.#revokedOrigins.get(originJti) !== undefined
    this.#revokedOrigins.set(originJti, true, until ?? this.#now() + MAX_ACCESS_TOKEN_LIFETIME + this.#tolerance)
    // Already refused: its entries left the cache then, and a refused token is never cached again. (A fleet's list
    // loaded again after a reconnection repeats thousands of known ids: no pass over the cache for each.)
    if (!known) this.#verified.deleteWhere((entry) => entry.claims.origin_jti === originJti || entry.claims.jti === originJti)
  }

  /**
   * Keeps a token that just passed every check. The caller passes only canonical encodings; the entry is kept only
   * while its key is still the pool's key for its kid (a fetch may have replaced it while the token waited).
   */
  add (entry: VerifiedAccessToken, exp: number): void {
    if (entry.keys.cachedKey(entry.kid) !== entry.key) return
    this.#verified.set(cacheIndex(entry.token), entry, exp + this.#tolerance)
  }

  /**
   * Refuses `token` from now until it expires (at most a day), in this process: for logout. Its cache entry is
   * dropped, and a later presentation fails after every other check has run. Remembers at most
   * {@link REVOKED_TOKENS_MAX} tokens; beyond that the oldest are forgotten first.
   */
  revoke (token: string): void {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return
    const parts = token.split('.')
    if (parts.length !== 3) return
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
    if (!BASE64URL.test(signaturePart)) return
    const key = signatureKey(signaturePart)
    this.#drop(token)
    this.#drop(`${headerPart}.${payloadPart}.${key}`)
    const exp = unverifiedPayload(token)?.exp
    const expiry = typeof exp === 'number' && Number.isFinite(exp) ? exp : Infinity
    this.#revoked.set(key, true, Math.min(expiry, this.#now() + MAX_ACCESS_TOKEN_LIFETIME) + this.#tolerance)
  }

  /** Drops the cache entry of exactly `token`, if any. */
  #drop (token: string): void {
    const index = cacheIndex(token)
    if (this.#verified.get(index)?.token === token) this.#verified.delete(index)
  }

  /** Drops the cached tokens whose key a JWKS refetch removed or replaced. */
  #forgetRemovedKeys (): void {
    this.#keyStores.forEach((keys, i) => { this.#generations[i] = keys.generation })
    this.#verified.deleteWhere((entry) => entry.keys.cachedKey(entry.kid) !== entry.key)
  }
}
