import type { FastifyInstance, FastifyRequest } from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import { CognitoInvalidOptionError } from '../errors.js'

/** What a cookie of the codec holds once decrypted, and when it was encrypted. */
export interface Decoded {
  data: Record<string, unknown>
  /** When the cookie was encrypted (secure-session's `__ts`), epoch seconds; it expires `expiry` seconds later. */
  issuedAt: unknown
}

export interface Encoded {
  value: string
  issuedAt: unknown
}

/** The two kinds of encrypted cookie: each has its own expiry. */
export type CookieKind = 'session' | 'login'

export interface SessionCodec {
  encode (data: object, kind: CookieKind): Encoded
  decode (value: string, request: FastifyRequest, kind: CookieKind): Decoded | undefined
}

const SESSION_NAMES: Readonly<Record<CookieKind, string>> = { session: 'fastifyCognitoSession', login: 'fastifyCognitoLogin' }

/**
 * Authenticated encryption of the plugin's cookies (libsodium secretbox via @fastify/secure-session).
 *
 * @fastify/secure-session is registered in a scope of its own that has no routes, so its eager per-request hooks
 * never run and its decorators never clash with the app's own secure-session: only its encryption is used, and
 * cookies are read lazily, on the routes that need them.
 */
export async function registerCodec (fastify: FastifyInstance, keys: Buffer[], expiry: Readonly<Record<CookieKind, number>>): Promise<SessionCodec> {
  let codec: SessionCodec | undefined
  await fastify.register(async function cognitoSessionCodec (scope) {
    await scope.register(fastifySecureSession, [
      { sessionName: SESSION_NAMES.session, cookieName: SESSION_NAMES.session, key: keys, expiry: expiry.session },
      { sessionName: SESSION_NAMES.login, cookieName: SESSION_NAMES.login, key: keys, expiry: expiry.login }
    ])
    codec = {
      encode: (data, kind) => {
        const session = scope.createSecureSession({ ...data })
        return { value: toCookieSafe(scope.encodeSecureSession(session, SESSION_NAMES[kind])), issuedAt: session.get('__ts') }
      },
      decode: (value, request, kind) => {
        const session = scope.decodeSecureSession(fromCookieSafe(value), request.log, SESSION_NAMES[kind])
        if (session === null) return undefined
        return { data: session.data() as Record<string, unknown>, issuedAt: session.get('__ts') }
      }
    }
  })
  if (codec === undefined) throw new CognitoInvalidOptionError('fastify-cognito: @fastify/secure-session did not register')
  return codec
}

// secure-session emits "base64;base64". Cookie-safe characters need no percent-encoding, so a chunk's size on the
// wire is exactly its length.
function toCookieSafe (value: string): string {
  return value.replace(/=+/g, '').replace(/\+/g, '-').replace(/\//g, '_').replace(';', '.')
}

function fromCookieSafe (value: string): string {
  const [cipher = '', nonce = ''] = value.split('.')
  return `${Buffer.from(cipher, 'base64url').toString('base64')};${Buffer.from(nonce, 'base64url').toString('base64')}`
}
