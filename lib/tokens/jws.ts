import { createHash, createVerify, type KeyObject } from 'node:crypto'
import { CognitoInvalidTokenError } from '../errors.js'
import { isPlainObject } from '../util/checks.js'

/**
 * Compact JWS (RFC 7515) as Cognito uses it: decoding, the header rules (RS256 only), the RS256 signature check.
 * Nothing here knows about Cognito's claims; that is verifier.ts.
 */

/**
 * Real Cognito tokens are 1-4 KB. Anything far larger is refused before any parsing or crypto, so a token
 * stuffed with thousands of groups costs nothing.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** Distinct token headers remembered (a pool has two keys, so two headers in practice). */
const KNOWN_HEADERS_MAX = 16

export interface DecodedJws {
  kid: string
  headerPart: string
  header: Record<string, unknown>
  /** `<header>.<payload>` exactly as received: what the signature covers. */
  signingInput: string
  signaturePart: string
  payload: Record<string, unknown>
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
  if (!isPlainObject(value)) throw new CognitoInvalidTokenError(`Token ${what} is not a JSON object`)
  return value
}

/**
 * The parsed headers of tokens that verified before, by exact header text: a pool's tokens share a handful of
 * headers, so their parsing is skipped (the header rules still run on them).
 */
export class KnownHeaders {
  readonly #headers = new Map<string, Record<string, unknown>>()

  get (headerPart: string): Record<string, unknown> | undefined {
    return this.#headers.get(headerPart)
  }

  /** Keeps the parsed header of a token that verified. */
  remember (decoded: DecodedJws): void {
    if (this.#headers.has(decoded.headerPart)) return
    if (this.#headers.size >= KNOWN_HEADERS_MAX) this.#headers.clear()
    this.#headers.set(decoded.headerPart, Object.freeze(decoded.header))
  }
}

/** Splits and decodes a compact JWS; checks the header (RS256 only, a kid, no `crit`). No signature check yet. */
export function decodeJws (token: unknown, knownHeaders?: KnownHeaders): DecodedJws {
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
    signaturePart: token.slice(lastDot + 1),
    payload: decodeJsonPart(payloadPart, 'payload')
  }
}

export function hasValidSignature (decoded: DecodedJws, key: KeyObject): boolean {
  try {
    // The signing input is base64url text (checked above), so latin1 gives exactly its bytes, without a copy in JS.
    return createVerify('sha256').update(decoded.signingInput, 'latin1').verify(key, decoded.signaturePart, 'base64url')
  } catch {
    return false
  }
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
 * The payload of a compact JWT, decoded without any check; undefined when it is not a JSON object. Only for what
 * needs no integrity: when a signed-out token may be forgotten, or a log line's `sub`.
 */
export function unverifiedPayload (token: string): Record<string, unknown> | undefined {
  const payloadPart = token.split('.')[1]
  if (payloadPart === undefined) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'))
    return isPlainObject(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** OIDC Core 3.1.3.6: at_hash is the base64url of the left half of SHA-256 over the access token. */
export function accessTokenHash (accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest()
  return digest.subarray(0, digest.length / 2).toString('base64url')
}
