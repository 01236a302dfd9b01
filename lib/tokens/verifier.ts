import type { KeyObject } from 'node:crypto'
import { CognitoInvalidTokenError, CognitoTokenExpiredError } from '../errors.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../types.js'
import { isStringArray } from '../util/checks.js'
import { deepFreeze } from '../util/freeze.js'
import { constantTimeEqual } from '../util/random.js'
import { accessTokenHash, decodeJws, hasValidSignature, isCanonicalBase64url, KnownHeaders, type DecodedJws } from './jws.js'
import type { JwksKeyStore } from './jwks.js'
import { DEFAULT_TOKEN_CACHE_SIZE, interner, keptClaims, VerifiedTokenCache, type VerifiedAccessToken } from './token-cache.js'

export { DEFAULT_TOKEN_CACHE_SIZE, REVOKED_TOKENS_MAX } from './token-cache.js'

/** No access token of Cognito lives longer than a day: no revocation needs to be kept longer. */
const MAX_REVOCATION_SECONDS = 24 * 3600
/** A user pool as the verifier knows it: its exact issuer, its key store, and its accepted app clients. */
export interface VerifierPool {
  issuer: string
  userPoolId: string
  keys: JwksKeyStore
  clientIds: readonly string[]
}

export interface TokenVerifierOptions {
  /** The app client whose ID tokens are verified (`aud`): the one users sign in with, of the first pool. */
  clientId: string
  /** Seconds of clock skew accepted on `exp`, `iat` and `nbf`. */
  clockTolerance: number
  /** Current time in epoch seconds; injectable for tests. */
  now?: () => number
  /** Verified access tokens kept in memory (0: none). Default {@link DEFAULT_TOKEN_CACHE_SIZE}. */
  tokenCacheSize?: number
}

export interface VerifyOptions {
  /**
   * Accept a token whose `exp` has passed (every other check still runs): only to name the user of a session that
   * is ending (logout), never to authenticate a request.
   */
  allowExpired?: boolean
}

export interface ExpectedIdToken extends VerifyOptions {
  nonce?: string | undefined
  /** The access token issued with it: its `at_hash`, when present, must match. */
  accessToken?: string | undefined
  /** The access token's `sub`: both tokens must name the same user. */
  sub?: string | undefined
}

/**
 * Verifies Cognito JWTs: RS256 signature by a key of the pool's JWKS, then exact `iss`, `token_use`, the app
 * client (`client_id` on access tokens, `aud` on ID tokens), `exp`/`iat`/`nbf` with the clock tolerance, and the
 * shape of the claims the plugin reads. Signature first, so unsigned input never reaches the claim checks.
 *
 * Access tokens that pass are cached (token-cache.ts), so that the same token presented again costs a map lookup
 * and a string comparison instead of an RSA verification; a hit applies the same `exp` rule as a first
 * verification. `revokeAccessToken` (logout) drops the entry and refuses the token, in this process, until it
 * expires.
 */
/** A pool with its client ids as a set, for the lookups of every first verification. */
interface KnownPool {
  readonly issuer: string
  readonly userPoolId: string
  readonly keys: JwksKeyStore
  readonly clientIds: ReadonlySet<string>
}

export class CognitoTokenVerifier {
  /** The pools by exact issuer: a token finds its pool by `iss` before any key is looked up or fetched. */
  readonly #pools: ReadonlyMap<string, KnownPool>
  /** The pool whose ID tokens are verified (the first). */
  readonly #signInPool: KnownPool
  readonly #clientId: string
  readonly #tolerance: number
  readonly #now: () => number
  readonly #cache: VerifiedTokenCache
  readonly #knownHeaders = new KnownHeaders()
  readonly #intern = interner()

  /** `pools` in the registration's order: the first is the pool users sign in with. */
  constructor (pools: readonly VerifierPool[], options: TokenVerifierOptions) {
    const known = pools.map((pool): KnownPool => ({ ...pool, clientIds: new Set(pool.clientIds) }))
    this.#pools = new Map(known.map((pool) => [pool.issuer, pool]))
    this.#signInPool = known[0] as KnownPool
    this.#clientId = options.clientId
    this.#tolerance = options.clockTolerance
    this.#now = options.now ?? (() => Date.now() / 1000)
    this.#cache = new VerifiedTokenCache(pools.map((pool) => pool.keys), {
      maxEntries: options.tokenCacheSize ?? DEFAULT_TOKEN_CACHE_SIZE,
      clockTolerance: options.clockTolerance,
      now: this.#now
    })
  }

  /** How many verified access tokens are cached now (diagnostics and tests). */
  get cachedTokenCount (): number {
    return this.#cache.size
  }

  /** How many signed-out access tokens are remembered now (diagnostics and tests). */
  get revokedTokenCount (): number {
    return this.#cache.revokedCount
  }

  /**
   * The claims of `token` when exactly this token passed every check before and still stands now (not expired,
   * key still in the JWKS, not signed out); otherwise undefined. Synchronous and free of crypto: the hot path.
   * The claims object is the one cache entry's: callers may key what they derive from it by its identity.
   */
  cachedAccessToken (token: string): CognitoAccessTokenPayload | undefined {
    return this.#cache.get(token)?.claims
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
  verifyAccessTokenNow (token: string, options: VerifyOptions = {}): CognitoAccessTokenPayload | Promise<CognitoAccessTokenPayload> {
    const cached = typeof token === 'string' ? this.cachedAccessToken(token) : undefined
    if (cached !== undefined) return cached
    const decoded = decodeJws(token, this.#knownHeaders)
    const pool = this.#poolOf(decoded)
    const key = pool.keys.cachedKey(decoded.kid)
    if (key !== undefined) return this.#acceptAccessToken(token, decoded, pool, key, options)
    return pool.keys.getKey(decoded.kid).then((fetched) => this.#acceptAccessToken(token, decoded, pool, fetched, options))
  }

  /** The id of the user pool whose issuer this is (tokens that verified name one). */
  userPoolIdOf (issuer: string): string | undefined {
    return this.#pools.get(issuer)?.userPoolId
  }

  /**
   * The pool a token names by its exact `iss`, read before the signature is checked: only to pick the keys, and an
   * unknown issuer is refused without any key lookup or JWKS fetch (a forged `iss` costs nothing). The signature is
   * then checked with that pool's keys, so a token cannot borrow another pool's trust.
   */
  #poolOf (decoded: DecodedJws): KnownPool {
    const issuer = decoded.payload.iss
    const pool = typeof issuer === 'string' ? this.#pools.get(issuer) : undefined
    if (pool === undefined) throw new CognitoInvalidTokenError('Token issuer is not a user pool of this app')
    return pool
  }

  /**
   * Refuses `token` from now until it expires, in this process (logout). With the `origin_jti` of its verified
   * claims, every access token of the same sign-in is refused too (those from before each refresh). See
   * VerifiedTokenCache.revoke and revokeOrigin.
   */
  revokeAccessToken (token: string, originJti?: string | undefined): void {
    this.#cache.revoke(token)
    if (typeof originJti === 'string' && originJti !== '') this.#cache.revokeOrigin(originJti)
  }

  /**
   * Refuses the access tokens of a sign-in (`origin_jti`) or the one token of a `jti` until `expiresAt` (epoch
   * seconds) in this process: what a sign-out on another instance of the fleet announces.
   */
  revokeTokenId (id: string, expiresAt: number): void {
    if (typeof id !== 'string' || id === '' || !Number.isFinite(expiresAt)) return
    this.#cache.revokeOrigin(id, Math.min(expiresAt, this.#now() + MAX_REVOCATION_SECONDS) + this.#tolerance)
  }

  /**
   * The rest of a first verification, synchronous: no sign-out and no key rotation can slip in between these
   * checks and the caching.
   */
  #acceptAccessToken (token: string, decoded: DecodedJws, pool: KnownPool, key: KeyObject, options: VerifyOptions): CognitoAccessTokenPayload {
    const claims = this.#check(decoded, key, 'access', options)
    if (typeof claims.client_id !== 'string' || !pool.clientIds.has(claims.client_id)) throw new CognitoInvalidTokenError('Token was issued to another app client')
    // A user's token names its user; a machine's (client credentials) has no username and its client as subject.
    // Anything else without a username is malformed.
    if (claims.username === undefined ? claims.sub !== claims.client_id : typeof claims.username !== 'string') {
      throw new CognitoInvalidTokenError('Token has no username')
    }
    if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new CognitoInvalidTokenError('Token scope is malformed')
    const canonical = isCanonicalBase64url(decoded.signaturePart)
    if (this.#cache.isRevoked(decoded.signaturePart, canonical, claims.origin_jti, claims.jti)) throw new CognitoInvalidTokenError('Token was revoked by a sign-out')
    const verified = keptClaims(claims, this.#intern)
    // An expired token (accepted only by `allowExpired`) is past its deadline: the cache would not keep it anyway.
    if (canonical) {
      const entry: VerifiedAccessToken = { token, claims: verified, kid: decoded.kid, key, keys: pool.keys }
      this.#cache.add(entry, claims.exp as number)
    }
    this.#knownHeaders.remember(decoded)
    return verified
  }

  async verifyIdToken (token: string, expected: ExpectedIdToken = {}): Promise<CognitoIdTokenPayload> {
    return this.verifyIdTokenNow(token, expected)
  }

  /**
   * Verifies an ID token of this app client: synchronous when its key is held, a promise only when the JWKS must be
   * fetched. `nonce` (sign-in), `accessToken` (its `at_hash`, when present) and `sub` (the access token's subject)
   * are checked when given.
   */
  verifyIdTokenNow (token: string, expected: ExpectedIdToken = {}): CognitoIdTokenPayload | Promise<CognitoIdTokenPayload> {
    const decoded = decodeJws(token, this.#knownHeaders)
    // ID tokens come from sign-in, which is the first pool's.
    const keys = this.#signInPool.keys
    if (decoded.payload.iss !== this.#signInPool.issuer) throw new CognitoInvalidTokenError('Token issuer is not this user pool')
    const key = keys.cachedKey(decoded.kid)
    if (key !== undefined) return this.#acceptIdToken(decoded, key, expected)
    return keys.getKey(decoded.kid).then((fetched) => this.#acceptIdToken(decoded, fetched, expected))
  }

  #acceptIdToken (decoded: DecodedJws, key: KeyObject, expected: ExpectedIdToken): CognitoIdTokenPayload {
    const claims = this.#check(decoded, key, 'id', expected)
    const aud = claims.aud
    const audienceOk = typeof aud === 'string'
      ? aud === this.#clientId
      : isStringArray(aud) && aud.length === 1 && aud[0] === this.#clientId
    if (!audienceOk) throw new CognitoInvalidTokenError('Token audience is not this app client')
    if (typeof claims['cognito:username'] !== 'string') throw new CognitoInvalidTokenError('Token has no cognito:username')
    if (expected.sub !== undefined && claims.sub !== expected.sub) throw new CognitoInvalidTokenError('ID token and access token belong to different users')
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
    this.#knownHeaders.remember(decoded)
    return deepFreeze(claims) as CognitoIdTokenPayload
  }

  /** Signature, then the claims both token types share. */
  #check (decoded: DecodedJws, key: KeyObject, tokenUse: 'access' | 'id', { allowExpired = false }: VerifyOptions): Record<string, unknown> {
    if (!hasValidSignature(decoded, key)) throw new CognitoInvalidTokenError('Token signature is invalid')
    const claims = decoded.payload
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
    if (!allowExpired && exp <= now - this.#tolerance) throw new CognitoTokenExpiredError()
    return claims
  }
}
