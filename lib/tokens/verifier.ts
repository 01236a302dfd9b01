import { createHash, createVerify, type KeyObject } from 'node:crypto'
import { CognitoInvalidTokenError, CognitoTokenExpiredError } from '../errors.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../types.js'
import { deepFreeze, ExpiringCache, tailIndex } from './cache.js'
import type { JwksKeyStore } from './jwks.js'
import { constantTimeEqual } from './random.js'

/**
 * Real Cognito tokens are 1-4 KB. Anything far larger is refused before any parsing or crypto, so a token
 * stuffed with thousands of groups costs nothing.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024
const BASE64URL = /^[A-Za-z0-9_-]+$/
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/**
 * The verified-token cache is indexed by a number made from the token's last characters (of its signature), and
 * a hit requires the whole token to be equal: hashing a whole 1 KB token string on every request would cost more
 * than the rest of the lookup.
 */
const INDEX_CHARACTERS = 8
/** Default number of verified access tokens kept per process. */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000
/** Signed-out access tokens remembered per process (each until it expires); the oldest leave first beyond this. */
export const REVOKED_TOKENS_MAX = 10_000
/** Cognito access tokens live at most one day: a signed-out token is never remembered longer than that. */
const MAX_ACCESS_TOKEN_LIFETIME = 24 * 3600
/** Distinct token headers remembered (a pool has two keys, so two headers in practice). */
const KNOWN_HEADERS_MAX = 16
/** Distinct repeated claim values (`scope`) shared between cached tokens. */
const INTERNED_MAX = 256
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

export interface TokenVerifierOptions {
  issuer: string
  clientId: string
  /** Seconds of clock skew accepted on `exp`, `iat` and `nbf`. */
  clockTolerance: number
  /** Current time in seconds; injectable for tests. */
  now?: () => number
  /** Verified access tokens kept in memory (0: none). Default {@link DEFAULT_TOKEN_CACHE_SIZE}. */
  tokenCacheSize?: number
}

interface DecodedToken {
  kid: string
  headerPart: string
  header: Record<string, unknown>
  /** `<header>.<payload>` exactly as received: what the signature covers. */
  signingInput: string
  signaturePart: string
  payload: Record<string, unknown>
}

/** A cached access token that passed every check, and what must still hold for that to stand. */
export interface VerifiedAccessToken {
  /** The exact token: a hit requires equality with it. */
  readonly token: string
  /** Deep-frozen: the same object is handed to every request that presents the token. */
  readonly claims: CognitoAccessTokenPayload
  readonly kid: string
  /** The key that verified the signature: the entry is dropped when a JWKS fetch removes or replaces it. */
  readonly key: KeyObject
  /** What a caller derives once from the claims (the guard's frozen user); lives and dies with the entry. */
  derived: unknown
}

/** Scratch memory for decoding token parts: no Buffer allocation per token (a part decodes to fewer bytes than its length). */
const partBytes = Buffer.allocUnsafeSlow(MAX_TOKEN_LENGTH)

function decodeJsonPart (part: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(partBytes.toString('utf8', 0, partBytes.write(part, 0, 'base64url')))
  } catch {
    throw new CognitoInvalidTokenError(`Token ${what} is not valid JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CognitoInvalidTokenError(`Token ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/**
 * Splits and decodes a compact JWS; checks the header (RS256 only, a kid, no `crit`). No signature check yet.
 * `knownHeaders` holds the parsed headers of tokens that verified before, by exact header text: a pool's tokens
 * share a handful of headers, so their parsing is skipped (the checks on them still run).
 */
function decode (token: unknown, knownHeaders?: ReadonlyMap<string, Record<string, unknown>>): DecodedToken {
  if (typeof token !== 'string' || token.length === 0) throw new CognitoInvalidTokenError('Token is missing')
  if (token.length > MAX_TOKEN_LENGTH) throw new CognitoInvalidTokenError('Token is too large')
  const firstDot = token.indexOf('.')
  const lastDot = token.lastIndexOf('.')
  if (firstDot === -1 || token.indexOf('.', firstDot + 1) !== lastDot || lastDot === firstDot) {
    throw new CognitoInvalidTokenError('Token is not a signed JWT (three dot-separated parts)')
  }
  if (!COMPACT_JWS.test(token)) throw new CognitoInvalidTokenError('Token is not base64url encoded')
  const headerPart = token.slice(0, firstDot)
  const payloadPart = token.slice(firstDot + 1, lastDot)
  const signaturePart = token.slice(lastDot + 1)
  const header = knownHeaders?.get(headerPart) ?? decodeJsonPart(headerPart, 'header')
  // Only RS256: never "none", never HS256 (the RSA public key used as an HMAC secret), never another RSA variant.
  if (header.alg !== 'RS256') throw new CognitoInvalidTokenError('Token algorithm is not RS256')
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new CognitoInvalidTokenError('Token header has no kid')
  if (header.crit !== undefined) throw new CognitoInvalidTokenError('Token header has unsupported critical extensions')
  return {
    kid: header.kid,
    headerPart,
    header,
    signingInput: token.slice(0, lastDot),
    signaturePart,
    payload: decodeJsonPart(payloadPart, 'payload')
  }
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
 * client repeats (`iss`, `token_use`, `client_id`, checked equal before; `scope`, interned) sharing one string each,
 * so that a cached token holds only what is its own.
 */
export function keptClaims (claims: Record<string, unknown>, issuer: string, clientId: string, intern: (value: string) => string): CognitoAccessTokenPayload {
  claims.iss = issuer
  claims.token_use = 'access'
  claims.client_id = clientId
  if (typeof claims.scope === 'string') claims.scope = intern(claims.scope)
  return deepFreeze(claims) as CognitoAccessTokenPayload
}

/**
 * Whether a base64url string (alphabet already checked) is the one encoding of its bytes: no unused trailing
 * bits set, no dangling character. The same bytes have exactly one canonical encoding.
 */
export function isCanonicalBase64url (value: string): boolean {
  const rest = value.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const last = BASE64URL_ALPHABET.indexOf(value.charAt(value.length - 1))
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0
}

/**
 * The payload of a compact JWT, decoded without any check; undefined when it is not a JSON object. Only for
 * tokens whose integrity is established otherwise (verified before, and read back from the authenticated session
 * cookie) or for what does not need it (when a signed-out token may be forgotten).
 */
export function unverifiedPayload (token: string): Record<string, unknown> | undefined {
  const payloadPart = token.split('.')[1]
  if (payloadPart === undefined) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** `exp` of a token without any check (for the signed-out list only); undefined when unreadable. */
function unverifiedExpiry (token: string): number | undefined {
  const exp = unverifiedPayload(token)?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined
}

function hasValidSignature (decoded: DecodedToken, key: KeyObject): boolean {
  try {
    // The signing input is base64url text (checked above), so latin1 gives exactly its bytes, without a copy in JS.
    return createVerify('sha256').update(decoded.signingInput, 'latin1').verify(key, decoded.signaturePart, 'base64url')
  } catch {
    return false
  }
}

function isStringArray (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** OIDC Core 3.1.3.6: at_hash is the base64url of the left half of SHA-256 over the access token. */
function accessTokenHash (accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}

/**
 * Verifies Cognito JWTs: RS256 signature by a key of the pool's JWKS, then exact `iss`, `token_use`, the app
 * client (`client_id` on access tokens, `aud` on ID tokens), `exp`/`iat`/`nbf` with the clock tolerance, and the
 * shape of the claims the plugin reads. Signature first, so unsigned input never reaches the claim checks.
 *
 * Access tokens that pass are cached, so that the same token presented again costs a map lookup and a string
 * comparison instead of an RSA verification:
 * - a hit requires the exact token string (the map is indexed by a number made from its last characters, and the
 *   whole token is compared);
 * - a hit applies the same `exp` rule as a first verification (`exp` + clockTolerance after the current time),
 *   and an entry is dropped once past it;
 * - an entry stands only while the key store holds the very key that verified it: a JWKS fetch that removes or
 *   replaces that kid drops the entry (the token is then verified in full again, and fails as without a cache);
 * - the cache is bounded (`tokenCacheSize`, least recently used out first) and failures are never cached;
 * - `revokeAccessToken` (logout) drops the entry and refuses the token, in this process, until it expires;
 * - only tokens in canonical base64url are cached, so the one entry per signature is the one revocation drops.
 */
export class CognitoTokenVerifier {
  readonly #keys: JwksKeyStore
  readonly #issuer: string
  readonly #clientId: string
  readonly #tolerance: number
  readonly #now: () => number
  readonly #verified: ExpiringCache<VerifiedAccessToken, number>
  /** Signed-out access tokens, keyed by their signature bytes (base64url), until they expire. */
  readonly #revoked: ExpiringCache<true>
  readonly #knownHeaders = new Map<string, Record<string, unknown>>()
  readonly #intern = interner()
  #keyGeneration: number

  constructor (keys: JwksKeyStore, options: TokenVerifierOptions) {
    this.#keys = keys
    this.#issuer = options.issuer
    this.#clientId = options.clientId
    this.#tolerance = options.clockTolerance
    this.#now = options.now ?? (() => Date.now() / 1000)
    this.#verified = new ExpiringCache(options.tokenCacheSize ?? DEFAULT_TOKEN_CACHE_SIZE, this.#now)
    this.#revoked = new ExpiringCache(REVOKED_TOKENS_MAX, this.#now)
    this.#keyGeneration = keys.generation
  }

  /** How many verified access tokens are cached now (diagnostics and tests). */
  get cachedTokenCount (): number {
    return this.#verified.size
  }

  /** How many signed-out access tokens are remembered now (diagnostics and tests). */
  get revokedTokenCount (): number {
    return this.#revoked.size
  }

  /**
   * The claims of `token` when exactly this token passed every check before and still stands now (not expired,
   * key still in the JWKS, not signed out); otherwise undefined. Synchronous and free of crypto: the hot path.
   */
  cachedAccessToken (token: string): CognitoAccessTokenPayload | undefined {
    return this.cachedEntry(token)?.claims
  }

  /**
   * The cache entry behind cachedAccessToken, for callers that keep something derived from the claims with it.
   * Every hit checks the key-set generation first: a JWKS fetch that removed or replaced a key has dropped the
   * entries that key vouched for before any lookup, so the lookup itself needs nothing more than `exp`.
   */
  cachedEntry (token: string): VerifiedAccessToken | undefined {
    if (this.#keys.generation !== this.#keyGeneration) this.#forgetRemovedKeys()
    if (token.length > MAX_TOKEN_LENGTH) return undefined
    const entry = this.#verified.get(cacheIndex(token))
    return entry !== undefined && entry.token === token ? entry : undefined
  }

  /** Resolves to the token's claims (deep-frozen, shared by every caller) or rejects with a typed CognitoError. */
  async verifyAccessToken (token: string): Promise<CognitoAccessTokenPayload> {
    // No `await` on a synchronous result: that would cost one more turn of the microtask queue.
    return this.verifyAccessTokenNow(token)
  }

  /**
   * As verifyAccessToken, but synchronous whenever it can be: the claims when the token is cached or its key is
   * already held (it then throws a typed CognitoError on failure), a promise only when the JWKS must be fetched.
   */
  verifyAccessTokenNow (token: string): CognitoAccessTokenPayload | Promise<CognitoAccessTokenPayload> {
    const cached = typeof token === 'string' ? this.cachedAccessToken(token) : undefined
    if (cached !== undefined) return cached
    const decoded = decode(token, this.#knownHeaders)
    const key = this.#keys.cachedKey(decoded.kid)
    if (key !== undefined) return this.#acceptAccessToken(token, decoded, key)
    return this.#keys.getKey(decoded.kid).then((fetched) => this.#acceptAccessToken(token, decoded, fetched))
  }

  /**
   * Refuses `token` from now until it expires (at most a day), in this process: for logout. Its cache entry is
   * dropped, and a later presentation fails after every other check has run. Remembers at most
   * {@link REVOKED_TOKENS_MAX} tokens; beyond that the oldest are forgotten first.
   */
  revokeAccessToken (token: string): void {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return
    const parts = token.split('.')
    if (parts.length !== 3) return
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
    if (!BASE64URL.test(signaturePart)) return
    // Keyed by the signature bytes, not the string: a re-encoding of the same signature is the same token.
    const signatureKey = Buffer.from(signaturePart, 'base64url').toString('base64url')
    this.#dropEntry(token)
    this.#dropEntry(`${headerPart}.${payloadPart}.${signatureKey}`)
    const now = this.#now()
    const exp = Math.min(unverifiedExpiry(token) ?? Infinity, now + MAX_ACCESS_TOKEN_LIFETIME)
    this.#revoked.set(signatureKey, true, exp + this.#tolerance)
  }

  /**
   * The rest of a first verification, synchronous: no sign-out and no key rotation can slip in between these
   * checks and the caching.
   */
  #acceptAccessToken (token: string, decoded: DecodedToken, key: KeyObject): CognitoAccessTokenPayload {
    const claims = this.#check(decoded, key, 'access')
    if (claims.client_id !== this.#clientId) throw new CognitoInvalidTokenError('Token was issued to another app client')
    if (typeof claims.username !== 'string') throw new CognitoInvalidTokenError('Token has no username')
    if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new CognitoInvalidTokenError('Token scope is malformed')
    if (this.#keys.generation !== this.#keyGeneration) this.#forgetRemovedKeys()
    // Signed-out tokens are keyed by their signature bytes: a re-encoding of the same signature is the same token.
    const canonical = isCanonicalBase64url(decoded.signaturePart)
    if (this.#revoked.size > 0) {
      const signatureKey = canonical ? decoded.signaturePart : Buffer.from(decoded.signaturePart, 'base64url').toString('base64url')
      if (this.#revoked.get(signatureKey) !== undefined) throw new CognitoInvalidTokenError('Token was revoked by a sign-out')
    }
    const verified = keptClaims(claims, this.#issuer, this.#clientId, this.#intern)
    // Only the canonical encoding is cached: it is the one entry a sign-out has to drop. And only while the key
    // that verified it is still the pool's key for its kid (a fetch may have replaced it while this token waited).
    if (canonical && this.#keys.cachedKey(decoded.kid) === key) {
      this.#verified.set(cacheIndex(token), { token, claims: verified, kid: decoded.kid, key, derived: undefined }, (claims.exp as number) + this.#tolerance)
    }
    this.#rememberHeader(decoded)
    return verified
  }

  /** Keeps the parsed header of a token that verified, so that the next token of the same key skips parsing it. */
  #rememberHeader (decoded: DecodedToken): void {
    if (this.#knownHeaders.has(decoded.headerPart)) return
    if (this.#knownHeaders.size >= KNOWN_HEADERS_MAX) this.#knownHeaders.clear()
    this.#knownHeaders.set(decoded.headerPart, Object.freeze(decoded.header))
  }

  /** Drops the cache entry of exactly `token`, if any. */
  #dropEntry (token: string): void {
    const index = cacheIndex(token)
    if (this.#verified.get(index)?.token === token) this.#verified.delete(index)
  }

  /** Drops the cached tokens whose key a JWKS refetch removed or replaced. */
  #forgetRemovedKeys (): void {
    this.#keyGeneration = this.#keys.generation
    this.#verified.deleteWhere((entry) => this.#keys.cachedKey(entry.kid) !== entry.key)
  }

  async verifyIdToken (token: string, expected: { nonce?: string | undefined, accessToken?: string | undefined } = {}): Promise<CognitoIdTokenPayload> {
    const decoded = decode(token, this.#knownHeaders)
    const claims = this.#check(decoded, this.#keys.cachedKey(decoded.kid) ?? await this.#keys.getKey(decoded.kid), 'id')
    const aud = claims.aud
    const audienceOk = typeof aud === 'string'
      ? aud === this.#clientId
      : isStringArray(aud) && aud.length === 1 && aud[0] === this.#clientId
    if (!audienceOk) throw new CognitoInvalidTokenError('Token audience is not this app client')
    if (typeof claims['cognito:username'] !== 'string') throw new CognitoInvalidTokenError('Token has no cognito:username')
    if (expected.nonce !== undefined) {
      if (typeof claims.nonce !== 'string' || !constantTimeEqual(claims.nonce, expected.nonce)) {
        throw new CognitoInvalidTokenError('Token nonce does not match the login')
      }
    }
    if (expected.accessToken !== undefined && claims.at_hash !== undefined) {
      if (typeof claims.at_hash !== 'string' || !constantTimeEqual(claims.at_hash, accessTokenHash(expected.accessToken))) {
        throw new CognitoInvalidTokenError('Token at_hash does not match the access token')
      }
    }
    this.#rememberHeader(decoded)
    return claims as CognitoIdTokenPayload
  }

  /** Signature, then the claims both token types share. */
  #check (decoded: DecodedToken, key: KeyObject, tokenUse: 'access' | 'id'): Record<string, unknown> {
    if (!hasValidSignature(decoded, key)) throw new CognitoInvalidTokenError('Token signature is invalid')
    const claims = decoded.payload
    if (claims.iss !== this.#issuer) throw new CognitoInvalidTokenError('Token issuer is not this user pool')
    if (claims.token_use !== tokenUse) throw new CognitoInvalidTokenError(`Token is not an ${tokenUse === 'id' ? 'ID' : 'access'} token`)
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new CognitoInvalidTokenError('Token has no subject')
    const { exp, iat, nbf } = claims
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new CognitoInvalidTokenError('Token has no expiry')
    if (typeof iat !== 'number' || !Number.isFinite(iat)) throw new CognitoInvalidTokenError('Token has no issue time')
    const now = this.#now()
    if (iat > now + this.#tolerance) throw new CognitoInvalidTokenError('Token is issued in the future')
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + this.#tolerance)) throw new CognitoInvalidTokenError('Token is not valid yet')
    if (claims['cognito:groups'] !== undefined && !isStringArray(claims['cognito:groups'])) {
      throw new CognitoInvalidTokenError('Token cognito:groups is malformed')
    }
    if (exp <= now - this.#tolerance) throw new CognitoTokenExpiredError()
    return claims
  }
}
