import { createPublicKey, type KeyObject } from 'node:crypto'
import type { CognitoHttpClient } from '../cognito/http.js'
import { CognitoIdpBadResponseError, CognitoIdpUnavailableError, CognitoInvalidTokenError } from '../errors.js'
import { parseJsonObject } from '../cognito/http.js'

/** After a failed fetch with no keys at all, try again this soon, so the app recovers by itself. */
const RETRY_AFTER_FAILURE_MS = 1000
const MIN_RSA_MODULUS_BITS = 2048

interface SigningKey {
  key: KeyObject
  /** The JWK members the key was built from: a refetch that finds them unchanged keeps the same KeyObject. */
  n: string
  e: string
}

function toRsaSigningKey (jwk: unknown, known: ReadonlyMap<string, SigningKey>): [string, SigningKey] | undefined {
  if (jwk === null || typeof jwk !== 'object') return undefined
  const { kty, kid, alg, use, n, e } = jwk as Record<string, unknown>
  if (kty !== 'RSA' || typeof kid !== 'string' || kid === '' || typeof n !== 'string' || typeof e !== 'string') return undefined
  if ((alg !== undefined && alg !== 'RS256') || (use !== undefined && use !== 'sig')) return undefined
  const same = known.get(kid)
  if (same !== undefined && same.n === n && same.e === e) return [kid, same]
  try {
    const key = createPublicKey({ key: { kty, n, e }, format: 'jwk' })
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    return bits >= MIN_RSA_MODULUS_BITS ? [kid, { key, n, e }] : undefined
  } catch {
    return undefined
  }
}

/** The usable keys of a JWKS document, reusing the entries of `known` whose JWK is unchanged; throws when it has none. */
function parseSigningKeys (jwks: unknown, known: ReadonlyMap<string, SigningKey> = new Map()): Map<string, SigningKey> {
  const keys = (jwks as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new CognitoIdpBadResponseError('the JWKS has no "keys" array')
  const usable = new Map<string, SigningKey>()
  for (const jwk of keys) {
    const entry = toRsaSigningKey(jwk, known)
    if (entry !== undefined) usable.set(entry[0], entry[1])
  }
  if (usable.size === 0) throw new CognitoIdpBadResponseError('the JWKS has no RS256 signing key of 2048 bits or more')
  return usable
}

/** The usable keys of a JWKS document; throws when it has none. */
export function parseKeySet (jwks: unknown): Map<string, KeyObject> {
  return new Map([...parseSigningKeys(jwks)].map(([kid, { key }]) => [kid, key]))
}

/** Whether every kid of `before` is still in `after` with the very same key (keys may have been added). */
function keepsEveryKey (before: ReadonlyMap<string, SigningKey>, after: ReadonlyMap<string, SigningKey>): boolean {
  for (const [kid, signingKey] of before) {
    if (after.get(kid) !== signingKey) return false
  }
  return true
}

/**
 * The user pool's signing keys as node:crypto KeyObjects, fetched once and kept for the process. An unknown
 * `kid` (key rotation) triggers one refetch, at most one per `cooldown` ms however many tokens ask, and
 * concurrent askers share the fetch in flight. Keys removed from the JWKS are dropped at the next fetch. When
 * the JWKS endpoint is down, the keys already held keep working.
 *
 * A key whose JWK is unchanged by a refetch keeps its KeyObject, so `cachedKey(kid) === key` tells whether a key
 * that verified a token earlier is still the pool's key for that kid. `generation` goes up whenever a fetch
 * removes or replaces a key: caches of verified tokens use it to drop what the removed keys vouched for.
 */
export class JwksKeyStore {
  readonly #http: CognitoHttpClient
  readonly #jwksUri: string
  readonly #cooldown: number
  readonly #now: () => number
  #keys = new Map<string, SigningKey>()
  #generation = 0
  #lastFetchAt = -Infinity
  #lastFetchFailed = false
  #inflight: Promise<void> | undefined
  #fetchCount = 0

  readonly #static: boolean

  /** With `staticKeys` (a JWKS object) the store never fetches: tests and air-gapped deployments. */
  constructor (http: CognitoHttpClient, jwksUri: string, cooldown: number, now: () => number = Date.now, staticKeys?: unknown) {
    this.#http = http
    this.#jwksUri = jwksUri
    this.#cooldown = cooldown
    this.#now = now
    this.#static = staticKeys !== undefined
    if (staticKeys !== undefined) this.#keys = parseSigningKeys(staticKeys)
  }

  /** How many times the JWKS was fetched (for diagnostics and tests). */
  get fetchCount (): number {
    return this.#fetchCount
  }

  /** Goes up each time a fetch removes or replaces a key (not when it only adds keys). */
  get generation (): number {
    return this.#generation
  }

  /** Synchronous lookup: the hot path when the key is known. */
  cachedKey (kid: string): KeyObject | undefined {
    return this.#keys.get(kid)?.key
  }

  async getKey (kid: string): Promise<KeyObject> {
    const cached = this.#keys.get(kid)
    if (cached !== undefined) return cached.key
    if (this.#static) throw new CognitoInvalidTokenError('Token is signed by an unknown key')
    if (this.#inflight === undefined) {
      const wait = this.#keys.size === 0 && this.#lastFetchFailed ? Math.min(RETRY_AFTER_FAILURE_MS, this.#cooldown) : this.#cooldown
      if (this.#now() - this.#lastFetchAt < wait) {
        if (this.#keys.size === 0) throw new CognitoIdpUnavailableError('The user pool signing keys (JWKS) are not available')
        throw new CognitoInvalidTokenError('Token is signed by an unknown key')
      }
    }
    await this.refresh()
    const key = this.#keys.get(kid)
    if (key === undefined) throw new CognitoInvalidTokenError('Token is signed by an unknown key')
    return key.key
  }

  /** Fetches the JWKS now (joining a fetch in flight). Rejects with CognitoIdpUnavailableError on failure. */
  async refresh (): Promise<void> {
    if (this.#static) return
    this.#inflight ??= this.#fetch().finally(() => { this.#inflight = undefined })
    await this.#inflight
  }

  async #fetch (): Promise<void> {
    this.#lastFetchAt = this.#now()
    this.#fetchCount++
    try {
      const response = await this.#http.send({ method: 'GET', url: this.#jwksUri, endpointName: 'JWKS endpoint', headers: { accept: 'application/json' } })
      if (response.statusCode !== 200) throw new CognitoIdpBadResponseError(`Cognito JWKS endpoint answered ${response.statusCode}`)
      const keys = parseSigningKeys(parseJsonObject(response, 'JWKS endpoint'), this.#keys)
      if (!keepsEveryKey(this.#keys, keys)) this.#generation++
      this.#keys = keys
      this.#lastFetchFailed = false
    } catch (error) {
      this.#lastFetchFailed = true
      throw new CognitoIdpUnavailableError('The user pool signing keys (JWKS) could not be fetched', { cause: error })
    }
  }
}
