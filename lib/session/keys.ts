import { hkdfSync } from 'node:crypto'

/** What a key encrypts: the session cookie, or the login transactions. Each has its own keys. */
export type CookiePurpose = 'session' | 'login'

/**
 * The keys of one registration's cookies, from the `sessionSecret` keys (options.ts), one per secret in rotation
 * order. The HKDF info names the purpose, the app client and the cookie name: two registrations that share a
 * `sessionSecret` (several app clients in one app) cannot read each other's cookies, and a login-transaction
 * cookie never decrypts as a session.
 */
export function deriveCookieKeys (secretKeys: readonly Buffer[], purpose: CookiePurpose, clientId: string, cookieName: string): Buffer[] {
  const info = `fastify-cognito cookie v2\0${purpose}\0${clientId}\0${cookieName}`
  return secretKeys.map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32)))
}
