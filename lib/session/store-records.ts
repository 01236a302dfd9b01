import { createHash, hkdfSync, randomBytes } from 'node:crypto'
import { unverifiedPayload } from '../tokens/jws.js'
import { isPlainObject } from '../util/checks.js'
import { SessionCookieCipher } from './codec.js'
import { parseSession, type CognitoSessionData } from './model.js'
import { packSession, unpackSession } from './pack.js'

/**
 * What a server-side session is made of in the store and in the browser:
 *
 * - The browser holds a ticket, `<sid>.<secret>`: the session id and a per-session secret of 256 bits, never stored
 *   on the server.
 * - The store holds, under the session id, `<sealed session>.<sealed envelope>`. The session is sealed with keys
 *   derived from the ticket's secret and `sessionSecret`: neither a dump of the store nor the secret alone opens
 *   it. The envelope holds only what ending the session from elsewhere needs (`endSessions`: the refresh token to
 *   revoke at Cognito, the id and expiry of the access tokens to refuse), sealed with keys derived from
 *   `sessionSecret`: a dump of the store exposes no token.
 * - Key names carry a Redis Cluster hash tag: a session's value and its refresh lock share a slot.
 */

const SECRET_BYTES = 32
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** A session id is a randomToken(): 43 base64url characters. */
const SID = /^[A-Za-z0-9_-]{43}$/

export interface Ticket {
  readonly sid: string
  readonly secret: Buffer
}

/** What ending a session from another request (another device) needs; sealed with the server's keys. */
export interface SessionEnvelope {
  /** The refresh token, to revoke at Cognito. */
  refreshToken?: string | undefined
  /** `origin_jti` of the access tokens (else the current `jti`): the id to refuse them by, across the fleet. */
  revocationId?: string | undefined
  /** When the current access token expires, epoch seconds. */
  expiresAt: number
}

export function newTicketSecret (): Buffer {
  return randomBytes(SECRET_BYTES)
}

export function formatTicket (ticket: Ticket): string {
  return `${ticket.sid}.${ticket.secret.toString('base64url')}`
}

/** The ticket in a cookie value, or undefined when it is not one of ours. */
export function parseTicket (value: string | undefined): Ticket | undefined {
  if (value === undefined || value.length !== 87) return undefined
  const sid = value.slice(0, 43)
  const secret = value.slice(44)
  if (value.charCodeAt(43) !== 46 || !SID.test(sid) || !BASE64URL.test(secret)) return undefined
  // 43 base64url characters are always 32 bytes.
  return { sid, secret: Buffer.from(secret, 'base64url') }
}

/** The id access tokens of this session are refused by after a sign-out: `origin_jti` (a whole sign-in) or `jti`. */
export function revocationIdOf (accessToken: string): string | undefined {
  const claims = unverifiedPayload(accessToken)
  const id = claims?.origin_jti ?? claims?.jti
  return typeof id === 'string' && id !== '' ? id : undefined
}

/**
 * When the access token expires (its `exp`), epoch seconds: how long a sign-out from another device must refuse it.
 * Not the session's `expiresAt`, which is the ID token's `exp` when that comes first: an access token outliving its
 * ID token would be accepted again once the ID token expired.
 */
function accessExpiryOf (session: CognitoSessionData): number {
  const exp = unverifiedPayload(session.accessToken)?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? Math.max(exp, session.expiresAt) : session.expiresAt
}

/** The names of a registration's keys in the store, under its prefix. */
export class StoreKeys {
  readonly #prefix: string
  readonly revocations: string
  readonly channel: string

  constructor (prefix: string) {
    this.#prefix = prefix
    this.revocations = `${prefix}revoked`
    this.channel = `${prefix}events`
  }

  session (sid: string): string {
    return `${this.#prefix}s:{${sid}}`
  }

  lock (sid: string): string {
    return `${this.#prefix}l:{${sid}}`
  }

  /** A user's sessions, by a hash of `sub`: a user's id is not spelled out in the key space. */
  userSessions (sub: string): string {
    return `${this.#prefix}u:{${createHash('sha256').update(sub, 'utf8').digest('base64url').slice(0, 32)}}`
  }
}

/** Seals and opens a registration's store values. */
export class StoreRecordCipher {
  readonly #secretKeys: readonly Buffer[]
  readonly #info: string
  readonly #envelope: SessionCookieCipher
  readonly #maxAge: number

  /** `secretKeys`: the `sessionSecret` keys, the first sealing; `maxAge`: the sessions' maximum age, seconds. */
  constructor (secretKeys: readonly Buffer[], clientId: string, maxAge: number) {
    this.#secretKeys = secretKeys
    this.#info = `fastify-cognito store v1\0session\0${clientId}`
    this.#maxAge = maxAge
    const envelopeInfo = `fastify-cognito store v1\0envelope\0${clientId}`
    this.#envelope = new SessionCookieCipher(secretKeys.map((key) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), envelopeInfo, 32))), maxAge)
  }

  seal (session: CognitoSessionData, secret: Buffer, now: number): string {
    const envelope: SessionEnvelope = { refreshToken: session.refreshToken, revocationId: revocationIdOf(session.accessToken), expiresAt: accessExpiryOf(session) }
    const sealedSession = this.#sessionCipher(secret).seal(packSession(session), now)
    const sealedEnvelope = this.#envelope.seal(Buffer.from(JSON.stringify(envelope), 'utf8'), now)
    return `${sealedSession}.${sealedEnvelope}`
  }

  /** The session in a stored value, or undefined when this ticket's secret does not open it (or it is not ours). */
  openSession (value: string, secret: Buffer, now: number): CognitoSessionData | undefined {
    const dot = value.indexOf('.')
    if (dot < 0) return undefined
    const opened = this.#sessionCipher(secret).open(value.slice(0, dot), now)
    return opened === undefined ? undefined : parseSession(unpackSession(opened.payload))
  }

  openEnvelope (value: string, now: number): SessionEnvelope | undefined {
    const opened = this.#envelope.open(value.slice(value.indexOf('.') + 1), now)
    if (opened === undefined) return undefined
    try {
      const parsed: unknown = JSON.parse(opened.payload.toString('utf8'))
      if (!isPlainObject(parsed) || typeof parsed.expiresAt !== 'number') return undefined
      return {
        refreshToken: typeof parsed.refreshToken === 'string' ? parsed.refreshToken : undefined,
        revocationId: typeof parsed.revocationId === 'string' ? parsed.revocationId : undefined,
        expiresAt: parsed.expiresAt
      }
    } catch {
      return undefined
    }
  }

  #sessionCipher (secret: Buffer): SessionCookieCipher {
    return new SessionCookieCipher(this.#secretKeys.map((key) => Buffer.from(hkdfSync('sha256', key, secret, this.#info, 32))), this.#maxAge)
  }
}
