import { createHash, verify as verifySignature, type KeyObject } from 'node:crypto'
import { CognitoInvalidTokenError, CognitoTokenExpiredError } from '../errors.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../types.js'
import type { JwksKeyStore } from './jwks.js'
import { constantTimeEqual } from './random.js'

/**
 * Real Cognito tokens are 1-4 KB. Anything far larger is refused before any parsing or crypto, so a token
 * stuffed with thousands of groups costs nothing.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024
const BASE64URL = /^[A-Za-z0-9_-]+$/

export interface TokenVerifierOptions {
  issuer: string
  clientId: string
  /** Seconds of clock skew accepted on `exp`, `iat` and `nbf`. */
  clockTolerance: number
  /** Current time in seconds; injectable for tests. */
  now?: () => number
}

interface DecodedToken {
  kid: string
  signingInput: string
  signature: Buffer
  payload: Record<string, unknown>
}

function decodeJsonPart (part: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  } catch {
    throw new CognitoInvalidTokenError(`Token ${what} is not valid JSON`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CognitoInvalidTokenError(`Token ${what} is not a JSON object`)
  return value as Record<string, unknown>
}

/** Splits and decodes a compact JWS; checks the header (RS256 only, a kid, no `crit`). No signature check yet. */
function decode (token: unknown): DecodedToken {
  if (typeof token !== 'string' || token.length === 0) throw new CognitoInvalidTokenError('Token is missing')
  if (token.length > MAX_TOKEN_LENGTH) throw new CognitoInvalidTokenError('Token is too large')
  const parts = token.split('.')
  if (parts.length !== 3) throw new CognitoInvalidTokenError('Token is not a signed JWT (three dot-separated parts)')
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
    throw new CognitoInvalidTokenError('Token is not base64url encoded')
  }
  const header = decodeJsonPart(headerPart, 'header')
  // Only RS256: never "none", never HS256 (the RSA public key used as an HMAC secret), never another RSA variant.
  if (header.alg !== 'RS256') throw new CognitoInvalidTokenError('Token algorithm is not RS256')
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new CognitoInvalidTokenError('Token header has no kid')
  if (header.crit !== undefined) throw new CognitoInvalidTokenError('Token header has unsupported critical extensions')
  return {
    kid: header.kid,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, 'base64url'),
    payload: decodeJsonPart(payloadPart, 'payload')
  }
}

function hasValidSignature (decoded: DecodedToken, key: KeyObject): boolean {
  try {
    return verifySignature('sha256', Buffer.from(decoded.signingInput, 'ascii'), key, decoded.signature)
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
 */
export class CognitoTokenVerifier {
  readonly #keys: JwksKeyStore
  readonly #issuer: string
  readonly #clientId: string
  readonly #tolerance: number
  readonly #now: () => number

  constructor (keys: JwksKeyStore, options: TokenVerifierOptions) {
    this.#keys = keys
    this.#issuer = options.issuer
    this.#clientId = options.clientId
    this.#tolerance = options.clockTolerance
    this.#now = options.now ?? (() => Date.now() / 1000)
  }

  async verifyAccessToken (token: string): Promise<CognitoAccessTokenPayload> {
    const claims = await this.#verify(token, 'access')
    if (claims.client_id !== this.#clientId) throw new CognitoInvalidTokenError('Token was issued to another app client')
    if (typeof claims.username !== 'string') throw new CognitoInvalidTokenError('Token has no username')
    if (claims.scope !== undefined && typeof claims.scope !== 'string') throw new CognitoInvalidTokenError('Token scope is malformed')
    return claims as CognitoAccessTokenPayload
  }

  async verifyIdToken (token: string, expected: { nonce?: string | undefined, accessToken?: string | undefined } = {}): Promise<CognitoIdTokenPayload> {
    const claims = await this.#verify(token, 'id')
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
    return claims as CognitoIdTokenPayload
  }

  async #verify (token: string, tokenUse: 'access' | 'id'): Promise<Record<string, unknown>> {
    const decoded = decode(token)
    const key = this.#keys.cachedKey(decoded.kid) ?? await this.#keys.getKey(decoded.kid)
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
