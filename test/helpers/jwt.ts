import { createSign, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto'

/** base64url of the JSON of `value`: one part of a compact JWS. */
export function encodePart (value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** The decoded JSON of one part of a compact JWT (0: header, 1: payload). */
export function decodePart (token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index]
  if (part === undefined) throw new Error('not a compact JWT')
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>
}

/**
 * A JWT-shaped string whose signature is 256 random bytes (the size of an RS256 signature), not a signature: for
 * what reads a payload without verifying it, or keys tokens by their signature.
 */
export function unsignedToken (payload: unknown, header: unknown = { alg: 'RS256', kid: 'k1' }): string {
  return `${encodePart(header)}.${encodePart(payload)}.${randomBytes(256).toString('base64url')}`
}

export interface RsaTestKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** The public key as a JWKS member: `{ kty, n, e, kid, alg: 'RS256', use: 'sig' }`. */
  jwk: JsonWebKey & { kid: string }
}

/** A new RSA key pair (2048 bits unless told) with its public JWK. */
export function rsaTestKey (kid: string, modulusLength = 2048): RsaTestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength })
  return { kid, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } }
}

/** A compact JWS signed RS256 with `key`, header `{ alg: 'RS256', kid }` unless `header` says otherwise. */
export function signToken (key: RsaTestKey, payload: unknown, header: Record<string, unknown> = {}): string {
  const input = `${encodePart({ alg: 'RS256', kid: key.kid, ...header })}.${encodePart(payload)}`
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key.privateKey).toString('base64url')}`
}
