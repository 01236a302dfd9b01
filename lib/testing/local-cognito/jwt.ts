import { constants, createHash, createHmac, sign } from 'node:crypto'
import { jwtVerify, type JWTPayload } from 'jose'
import type { KeyRing, SigningKey } from './keys.js'

const RSA_HASHES: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }
const PSS_HASHES: Record<string, string> = { PS256: 'sha256', PS384: 'sha384', PS512: 'sha512' }
const HMAC_HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

export function base64url (input: Buffer | string): string {
  return Buffer.from(input).toString('base64url')
}

/** Drops keys whose value is undefined, so overrides can remove claims or header members. */
export function merge (base: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base, ...overrides }
  for (const [name, value] of Object.entries(merged)) {
    if (value === undefined) delete merged[name]
  }
  return merged
}

/**
 * Signs by hand rather than with jose because minted test tokens may carry a header that lies (`alg: 'none'`,
 * HS256, ES256): the signature then follows what an attacker or a broken issuer would produce.
 */
export function signJwt (header: Record<string, unknown>, payload: Record<string, unknown>, key: SigningKey): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`
  return `${input}.${base64url(signature(header.alg, Buffer.from(input), key))}`
}

function signature (alg: unknown, data: Buffer, key: SigningKey): Buffer {
  if (alg === 'none') return Buffer.alloc(0)
  const name = typeof alg === 'string' ? alg : ''
  const hmac = HMAC_HASHES[name]
  if (hmac !== undefined) return createHmac(hmac, key.publicKeyPem).update(data).digest()
  const pss = PSS_HASHES[name]
  if (pss !== undefined) {
    return sign(pss, data, {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST
    })
  }
  // Unknown or non-RSA algorithms still get an RS256 signature: the header is the deliberate lie.
  return sign(RSA_HASHES[name] ?? 'sha256', data, key.privateKey)
}

/** OIDC at_hash: the left half of the SHA-256 of the access token, base64url. */
export function atHash (accessToken: string): string {
  return base64url(createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16))
}

export function s256 (verifier: string): string {
  return base64url(createHash('sha256').update(verifier, 'ascii').digest())
}

export async function verifyPoolJwt (token: string, keys: KeyRing, issuer: string, now: number): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, async (header) => {
    const key = keys.find(header.kid)
    if (key === undefined) throw new Error('unknown kid')
    return key.publicKey
  }, { algorithms: ['RS256'], issuer, currentDate: new Date(now) })
  return payload
}
