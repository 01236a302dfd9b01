import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 bits from the CSPRNG, base64url (43 characters): state, nonce, PKCE verifier, session id. */
export function randomToken (): string {
  return randomBytes(32).toString('base64url')
}

/** RFC 7636 S256: the challenge is base64url(SHA-256(verifier)). Only S256 is ever used. */
export function pkceChallenge (verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content nor the length of
 * the secret side leaks through timing.
 */
export function constantTimeEqual (a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest()
  const right = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(left, right)
}
