import sodium from 'sodium-native'
import type { FastifyCognitoOptions } from '../../lib/index.js'
import { resolveOptions } from '../../lib/options.js'
import { SessionCookieCipher } from '../../lib/session/codec.js'
import { COOKIE_CHUNK_LENGTH } from '../../lib/session/cookie-store.js'
import { deriveCookieKeys } from '../../lib/session/keys.js'
import { packSession, unpackSession } from '../../lib/session/pack.js'

/**
 * The plugin's cookies as someone holding the session secret could write them (an old secret still in the rotation
 * array, a leaked configuration): for tests that ask what the plugin does with a cookie that decrypts but that it
 * never wrote. Everything here uses the plugin's own key derivation and encryption, so a cookie made here is exactly
 * as authentic as one the plugin sets.
 */
export interface CookieForger {
  /** `cognito_session` (chunks are `<name>.0`, `<name>.1`, …) or `__Host-…` with secure cookies. */
  readonly sessionCookieName: string
  /** `cognito_login`, or `__Host-…` with secure cookies. */
  readonly loginCookieName: string
  /** The session cookie's value for these bytes, sealed at `nowSeconds` (default: now). */
  seal: (payload: Buffer, nowSeconds?: number) => string
  /** A Cookie header carrying `value` as the session, in chunks of at most 3,800 characters. */
  sessionHeader: (value: string) => string
  /** A Cookie header carrying `session` (any object: it is packed as the plugin packs a session). */
  forgeSession: (session: Record<string, unknown>, nowSeconds?: number) => string
  /** The session in a Cookie header, decrypted and unpacked; undefined when there is none or it does not open. */
  openSession: (cookieHeader: string, nowSeconds?: number) => Record<string, unknown> | undefined
  /** The login-transaction cookie's value for this plaintext (what @fastify/secure-session would decrypt). */
  loginValue: (plaintext: string) => string
  /** A Cookie header carrying this plaintext as the login-transaction cookie. */
  loginHeader: (plaintext: string) => string
  /** The plaintext of the login-transaction cookie in a Cookie header, or undefined. */
  openLogin: (cookieHeader: string) => string | undefined
}

/** The `name=value` pairs of a Cookie header, first of each name. */
export function parseCookieHeader (header: string): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=')
    if (at === -1) continue
    const name = pair.slice(0, at).trim()
    if (!cookies.has(name)) cookies.set(name, pair.slice(at + 1).trim())
  }
  return cookies
}

/** The registration's cookie names and keys, derived from its options exactly as lib/plugin.ts does. */
export function cookieForger (rawOptions: FastifyCognitoOptions): CookieForger {
  const resolved = resolveOptions(rawOptions)
  const options = resolved.signIn
  if (options === undefined) throw new Error('cookieForger needs a registration with browser sign-in')
  const base = options.secureCookies ? `__Host-${options.cookieName}` : options.cookieName
  const sessionCookieName = `${base}_session`
  const loginCookieName = `${base}_login`
  const sessionKeys = deriveCookieKeys(options.sessionKeys, 'session', options.clientId, sessionCookieName)
  const loginKeys = deriveCookieKeys(options.sessionKeys, 'login', options.clientId, loginCookieName)
  const cipher = new SessionCookieCipher(sessionKeys, options.maxSessionAge)
  const nowDefault = (): number => resolved.now() / 1000

  const seal = (payload: Buffer, nowSeconds = nowDefault()): string => cipher.seal(payload, nowSeconds)
  const sessionHeader = (value: string): string => {
    const chunks: string[] = []
    for (let i = 0; i * COOKIE_CHUNK_LENGTH < value.length; i++) {
      chunks.push(`${sessionCookieName}.${i}=${value.slice(i * COOKIE_CHUNK_LENGTH, (i + 1) * COOKIE_CHUNK_LENGTH)}`)
    }
    return chunks.join('; ')
  }
  const openSession = (cookieHeader: string, nowSeconds = nowDefault()): Record<string, unknown> | undefined => {
    const cookies = parseCookieHeader(cookieHeader)
    let value = ''
    for (let i = 0; cookies.has(`${sessionCookieName}.${i}`); i++) value += cookies.get(`${sessionCookieName}.${i}`) as string
    const opened = value === '' ? undefined : cipher.open(value, nowSeconds)
    return opened === undefined ? undefined : unpackSession(opened.payload)
  }
  const loginValue = (plaintext: string): string => {
    const message = Buffer.from(plaintext, 'utf8')
    const nonce = Buffer.alloc(sodium.crypto_secretbox_NONCEBYTES)
    sodium.randombytes_buf(nonce)
    const box = Buffer.alloc(message.length + sodium.crypto_secretbox_MACBYTES)
    sodium.crypto_secretbox_easy(box, message, nonce, loginKeys[0] as Buffer)
    // What @fastify/secure-session writes, made cookie-safe exactly as toCookieSafe in lib/session/codec.ts.
    const secureSession = `${box.toString('base64')};${nonce.toString('base64')}`
    return secureSession.replace(/=+/g, '').replace(/\+/g, '-').replace(/\//g, '_').replace(';', '.')
  }
  const openLogin = (cookieHeader: string): string | undefined => {
    const value = parseCookieHeader(cookieHeader).get(loginCookieName)
    if (value === undefined) return undefined
    const [boxPart = '', noncePart = ''] = value.split('.')
    const box = Buffer.from(boxPart, 'base64url')
    const nonce = Buffer.from(noncePart, 'base64url')
    if (box.length < sodium.crypto_secretbox_MACBYTES || nonce.length !== sodium.crypto_secretbox_NONCEBYTES) return undefined
    const message = Buffer.alloc(box.length - sodium.crypto_secretbox_MACBYTES)
    return loginKeys.some((key) => sodium.crypto_secretbox_open_easy(message, box, nonce, key)) ? message.toString('utf8') : undefined
  }
  return {
    sessionCookieName,
    loginCookieName,
    seal,
    sessionHeader,
    forgeSession: (session, nowSeconds) => sessionHeader(seal(packSession(session), nowSeconds)),
    openSession,
    loginValue,
    loginHeader: (plaintext) => `${loginCookieName}=${loginValue(plaintext)}`,
    openLogin
  }
}

/** The decoded header and payload of a compact JWS (no verification: for building test tokens from real ones). */
export function decodeJwt (token: string): { header: Record<string, unknown>, payload: Record<string, unknown> } {
  const [header = '', payload = ''] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  }
}
