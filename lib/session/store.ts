import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'
import fastifySecureSession from '@fastify/secure-session'

/** What the session cookie holds, encrypted and authenticated (libsodium secretbox via @fastify/secure-session). */
export interface CognitoSessionData {
  v: 1
  /** Random per login: a new sign-in never continues an old session (no fixation). */
  sid: string
  /** The user's `sub`; refreshed tokens must name the same user. */
  sub: string
  accessToken: string
  idToken?: string
  refreshToken?: string
  /** The access token's `exp`, in epoch seconds. */
  expiresAt: number
  /** When the user signed in, epoch seconds. */
  createdAt: number
}

/** One login in progress, between GET /login and the callback. */
export interface LoginTransaction {
  state: string
  codeVerifier: string
  nonce?: string
  returnTo?: string
  /** Epoch seconds. */
  createdAt: number
}

/** Browsers drop cookies over 4096 bytes (name, value and attributes); chunks leave room for name and attributes. */
export const COOKIE_CHUNK_LENGTH = 3800
const MAX_SESSION_CHUNKS = 8
/** Logins started in other tabs stay valid side by side, up to this many. */
const MAX_LOGIN_TRANSACTIONS = 3
export const LOGIN_TRANSACTION_MAX_AGE = 600

const SESSION = 'fastifyCognitoSession'
const LOGIN = 'fastifyCognitoLogin'

interface SessionCodec {
  encode (data: object, sessionName: string): string
  decode (value: string, request: FastifyRequest, sessionName: string): Record<string, unknown> | undefined
}

/**
 * @fastify/secure-session is registered in a scope of its own that has no routes, so its eager per-request hooks
 * never run and its decorators never clash with the app's own secure-session: only its encryption is used, and
 * cookies are read lazily, on the routes that need them.
 */
async function registerCodec (fastify: FastifyInstance, keys: Buffer[], sessionMaxAge: number): Promise<SessionCodec> {
  let codec: SessionCodec | undefined
  await fastify.register(async function cognitoSessionCodec (scope) {
    await scope.register(fastifySecureSession, [
      { sessionName: SESSION, cookieName: SESSION, key: keys, expiry: sessionMaxAge },
      { sessionName: LOGIN, cookieName: LOGIN, key: keys, expiry: LOGIN_TRANSACTION_MAX_AGE }
    ])
    codec = {
      encode: (data, sessionName) => toCookieSafe(scope.encodeSecureSession(scope.createSecureSession({ ...data }), sessionName)),
      decode: (value, request, sessionName) => {
        const session = scope.decodeSecureSession(fromCookieSafe(value), request.log, sessionName)
        return session?.data() as Record<string, unknown> | undefined
      }
    }
  })
  if (codec === undefined) throw new Error('fastify-cognito: session codec failed to register')
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

function isSessionData (value: Record<string, unknown> | undefined): value is Record<string, unknown> & CognitoSessionData {
  return value !== undefined && value.v === 1 && typeof value.sid === 'string' && typeof value.sub === 'string' && typeof value.accessToken === 'string' &&
    typeof value.expiresAt === 'number' && typeof value.createdAt === 'number' &&
    (value.idToken === undefined || typeof value.idToken === 'string') &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string')
}

function isLoginTransaction (value: unknown): value is LoginTransaction {
  if (value === null || typeof value !== 'object') return false
  const tx = value as Record<string, unknown>
  return typeof tx.state === 'string' && typeof tx.codeVerifier === 'string' && typeof tx.createdAt === 'number' &&
    (tx.nonce === undefined || typeof tx.nonce === 'string') && (tx.returnTo === undefined || typeof tx.returnTo === 'string')
}

export interface SessionStoreOptions {
  sessionKeys: Buffer[]
  cookieName: string
  secureCookies: boolean
  sessionMaxAge: number
}

/** The only code that reads or writes the plugin's cookies. */
export class SessionStore {
  readonly #codec: SessionCodec
  readonly #sessionCookie: string
  readonly #loginCookie: string
  readonly #sessionMaxAge: number
  readonly #attributes: CookieSerializeOptions
  readonly #decoded = new WeakMap<FastifyRequest, CognitoSessionData | null>()

  private constructor (codec: SessionCodec, options: SessionStoreOptions) {
    this.#codec = codec
    // __Host- makes the browser refuse the cookie unless it is Secure, for this host only, on Path=/.
    const base = options.secureCookies ? `__Host-${options.cookieName}` : options.cookieName
    this.#sessionCookie = `${base}_session`
    this.#loginCookie = `${base}_login`
    this.#sessionMaxAge = options.sessionMaxAge
    this.#attributes = { path: '/', httpOnly: true, secure: options.secureCookies, sameSite: 'lax' }
  }

  static async register (fastify: FastifyInstance, options: SessionStoreOptions): Promise<SessionStore> {
    return new SessionStore(await registerCodec(fastify, options.sessionKeys, options.sessionMaxAge), options)
  }

  /** Every cookie name the store may set: the session chunks and the login transaction. */
  get cookieNames (): { session: string, login: string } {
    return { session: this.#sessionCookie, login: this.#loginCookie }
  }

  /** The session of this request, or null. Tampered, truncated, foreign or expired cookies are no session. */
  readSession (request: FastifyRequest): CognitoSessionData | null {
    const known = this.#decoded.get(request)
    if (known !== undefined) return known
    let session: CognitoSessionData | null = null
    const value = this.#readChunks(request)
    if (value !== undefined) {
      const data = this.#codec.decode(value, request, SESSION)
      if (isSessionData(data)) {
        session = { v: 1, sid: data.sid, sub: data.sub, accessToken: data.accessToken, expiresAt: data.expiresAt, createdAt: data.createdAt }
        if (data.idToken !== undefined) session.idToken = data.idToken
        if (data.refreshToken !== undefined) session.refreshToken = data.refreshToken
      }
    }
    this.#decoded.set(request, session)
    return session
  }

  writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): void {
    const value = this.#codec.encode(session, SESSION)
    const chunks = Math.ceil(value.length / COOKIE_CHUNK_LENGTH)
    if (chunks > MAX_SESSION_CHUNKS) throw new Error('fastify-cognito: the session is too large for cookies')
    const attributes = { ...this.#attributes, maxAge: this.#sessionMaxAge }
    for (let i = 0; i < chunks; i++) {
      reply.setCookie(`${this.#sessionCookie}.${i}`, value.slice(i * COOKIE_CHUNK_LENGTH, (i + 1) * COOKIE_CHUNK_LENGTH), attributes)
    }
    this.#clearChunksFrom(request, reply, chunks)
    this.#decoded.set(request, session)
  }

  clearSession (request: FastifyRequest, reply: FastifyReply): void {
    this.#clearChunksFrom(request, reply, 0)
    this.#decoded.set(request, null)
  }

  readLoginTransactions (request: FastifyRequest): LoginTransaction[] {
    const value = request.cookies[this.#loginCookie]
    if (value === undefined) return []
    const data = this.#codec.decode(value, request, LOGIN)
    const list = data?.transactions
    return Array.isArray(list) ? list.filter(isLoginTransaction) : []
  }

  /** Adds a login, keeping the newest few so that logins started in several tabs all complete. */
  addLoginTransaction (request: FastifyRequest, reply: FastifyReply, transaction: LoginTransaction): void {
    const transactions = [...this.readLoginTransactions(request), transaction].slice(-MAX_LOGIN_TRANSACTIONS)
    this.#writeLoginTransactions(reply, transactions)
  }

  /** Removes one login (it is single use), or the cookie when none is left. */
  removeLoginTransaction (request: FastifyRequest, reply: FastifyReply, state: string): void {
    const rest = this.readLoginTransactions(request).filter((tx) => tx.state !== state)
    if (rest.length === 0) {
      if (request.cookies[this.#loginCookie] !== undefined) reply.clearCookie(this.#loginCookie, this.#attributes)
    } else {
      this.#writeLoginTransactions(reply, rest)
    }
  }

  clearLoginTransactions (request: FastifyRequest, reply: FastifyReply): void {
    if (request.cookies[this.#loginCookie] !== undefined) reply.clearCookie(this.#loginCookie, this.#attributes)
  }

  #writeLoginTransactions (reply: FastifyReply, transactions: LoginTransaction[]): void {
    reply.setCookie(this.#loginCookie, this.#codec.encode({ transactions }, LOGIN), { ...this.#attributes, maxAge: LOGIN_TRANSACTION_MAX_AGE })
  }

  #readChunks (request: FastifyRequest): string | undefined {
    let value = ''
    for (let i = 0; i < MAX_SESSION_CHUNKS; i++) {
      const chunk = request.cookies[`${this.#sessionCookie}.${i}`]
      if (chunk === undefined) break
      value += chunk
    }
    return value === '' ? undefined : value
  }

  #clearChunksFrom (request: FastifyRequest, reply: FastifyReply, first: number): void {
    for (let i = first; i < MAX_SESSION_CHUNKS; i++) {
      const name = `${this.#sessionCookie}.${i}`
      if (request.cookies[name] !== undefined) reply.clearCookie(name, this.#attributes)
    }
  }
}
