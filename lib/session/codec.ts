import type { FastifyInstance, FastifyRequest } from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import sodium from 'sodium-native'
import { CognitoInvalidOptionError } from '../errors.js'
import { isPlainObject } from '../util/checks.js'

/**
 * Authenticated encryption of the plugin's cookies: libsodium's secretbox (XSalsa20-Poly1305) with a random nonce,
 * the first key encrypting and every key (rotation) decrypting.
 *
 * - The session cookie carries bytes (the packed session, pack.ts), so it uses secretbox directly: one base64url
 *   layer on the wire and nothing else, where @fastify/secure-session's JSON interface would base64-encode the bytes
 *   a second time. The time it was sealed is inside the box, so an expired or not-yet-valid cookie is refused.
 * - The login transactions are a small JSON object: @fastify/secure-session (the same secretbox) keeps them.
 *
 * Whatever cannot be opened, parsed or trusted is `undefined`: never an exception.
 */

const FORMAT = 1
/** Version byte and the sealing time (uint32 epoch seconds). */
const HEADER_BYTES = 5
/** Seconds a cookie may appear to come from the future (clocks of several instances disagree a little). */
const FUTURE_TOLERANCE = 60
const BASE64URL = /^[A-Za-z0-9_-]+$/

export interface OpenedCookie {
  payload: Buffer
  /** When it was sealed, epoch seconds. */
  sealedAt: number
}

/** Seals and opens the session cookie's bytes; valid for `maxAge` seconds after sealing. */
export class SessionCookieCipher {
  readonly #keys: readonly Buffer[]
  readonly #maxAge: number

  constructor (keys: readonly Buffer[], maxAge: number) {
    if (keys.length === 0 || keys.some((key) => key.length !== sodium.crypto_secretbox_KEYBYTES)) {
      throw new CognitoInvalidOptionError('fastify-cognito: session keys must be 32 bytes each')
    }
    this.#keys = keys
    this.#maxAge = maxAge
  }

  /** base64url(nonce || box(version, sealedAt, payload)). */
  seal (payload: Buffer, now: number): string {
    const message = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
    message[0] = FORMAT
    message.writeUInt32BE(Math.floor(now), 1)
    payload.copy(message, HEADER_BYTES)
    const sealed = Buffer.allocUnsafe(sodium.crypto_secretbox_NONCEBYTES + sodium.crypto_secretbox_MACBYTES + message.length)
    const nonce = sealed.subarray(0, sodium.crypto_secretbox_NONCEBYTES)
    sodium.randombytes_buf(nonce)
    sodium.crypto_secretbox_easy(sealed.subarray(sodium.crypto_secretbox_NONCEBYTES), message, nonce, this.#keys[0] as Buffer)
    return sealed.toString('base64url')
  }

  /** The payload and sealing time, or undefined: not ours, tampered, expired or from the future. */
  open (value: string, now: number): OpenedCookie | undefined {
    // Node's base64 decoder skips characters outside the alphabet: anything but base64url is no cookie of ours.
    if (!BASE64URL.test(value)) return undefined
    const sealed = Buffer.from(value, 'base64url')
    const boxLength = sealed.length - sodium.crypto_secretbox_NONCEBYTES
    if (boxLength < sodium.crypto_secretbox_MACBYTES + HEADER_BYTES) return undefined
    const nonce = sealed.subarray(0, sodium.crypto_secretbox_NONCEBYTES)
    const box = sealed.subarray(sodium.crypto_secretbox_NONCEBYTES)
    const message = Buffer.allocUnsafe(boxLength - sodium.crypto_secretbox_MACBYTES)
    if (!this.#keys.some((key) => sodium.crypto_secretbox_open_easy(message, box, nonce, key))) return undefined
    if (message[0] !== FORMAT) return undefined
    const sealedAt = message.readUInt32BE(1)
    // A minute's grace past the cookie's own Max-Age: the session's age, checked exactly from its sign-in time,
    // is what ends a session (with its own error), not the seconds the seal was rounded to.
    if (sealedAt > now + FUTURE_TOLERANCE || sealedAt + this.#maxAge + FUTURE_TOLERANCE <= now) return undefined
    return { payload: message.subarray(HEADER_BYTES), sealedAt }
  }
}

export interface JsonCookieCodec {
  encode (data: Record<string, unknown>): string
  decode (value: string, request: FastifyRequest): Record<string, unknown> | undefined
}

const LOGIN_SESSION_NAME = 'fastifyCognitoLogin'

/**
 * A JSON cookie through @fastify/secure-session, registered in a scope of its own that has no routes, so its eager
 * per-request hooks never run and its decorators never clash with the app's own secure-session: only its
 * encryption is used, on the routes that need it.
 */
export async function registerJsonCookieCodec (fastify: FastifyInstance, keys: Buffer[], expiry: number): Promise<JsonCookieCodec> {
  let codec: JsonCookieCodec | undefined
  await fastify.register(async function cognitoLoginCodec (scope) {
    await scope.register(fastifySecureSession, { sessionName: LOGIN_SESSION_NAME, cookieName: LOGIN_SESSION_NAME, key: keys, expiry })
    codec = {
      encode: (data) => toCookieSafe(scope.encodeSecureSession(scope.createSecureSession({ ...data }), LOGIN_SESSION_NAME)),
      decode: (value, request) => {
        try {
          // secure-session parses the plaintext without a guard: anything but a JSON object throws there.
          const data: unknown = scope.decodeSecureSession(fromCookieSafe(value), request.log, LOGIN_SESSION_NAME)?.data()
          return isPlainObject(data) ? data : undefined
        } catch {
          return undefined
        }
      }
    }
  })
  if (codec === undefined) throw new CognitoInvalidOptionError('fastify-cognito: @fastify/secure-session did not register')
  return codec
}

// secure-session emits "base64;base64". Cookie-safe characters need no percent-encoding.
function toCookieSafe (value: string): string {
  return value.replace(/=+/g, '').replace(/\+/g, '-').replace(/\//g, '_').replace(';', '.')
}

function fromCookieSafe (value: string): string {
  const [cipher = '', nonce = ''] = value.split('.')
  return `${Buffer.from(cipher, 'base64url').toString('base64')};${Buffer.from(nonce, 'base64url').toString('base64')}`
}
