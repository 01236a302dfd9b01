import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifySecureSession from '@fastify/secure-session'
import { deepFreeze, ExpiringCache, tailIndex } from '../tokens/cache.js'
import { readCookie, readCookieChunks, readNumberedCookies, setCookie } from './cookies.js'
import { packSession, unpackSession } from './pack.js'
import type { FastifyCognitoSessionData } from '../types.js'

/**
 * What the session cookie holds, packed (see pack.ts), then encrypted and authenticated (libsodium secretbox via
 * @fastify/secure-session).
 */
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
  /** /oauth2/userInfo at sign-in (option `userInfo`), booleans normalised. */
  userInfo?: Record<string, unknown>
  /** What the app's `onLogin` hook returned. */
  data?: FastifyCognitoSessionData
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
/** Default number of decoded sessions kept per process (a session with its cookie is ~5-20 KB). */
export const DEFAULT_SESSION_CACHE_SIZE = 1000
/**
 * A secretbox nonce is 24 bytes, random: the last 32 characters of every session cookie value. The cache is
 * indexed by a number made from the last of them (a hit still compares every chunk).
 */
const INDEX_CHARACTERS = 8

interface Decoded {
  data: Record<string, unknown>
  /** When the cookie was encrypted (secure-session's `__ts`), epoch seconds; it expires `expiry` seconds later. */
  issuedAt: unknown
}

interface Encoded {
  value: string
  issuedAt: unknown
}

interface SessionCodec {
  encode (data: object, sessionName: string): Encoded
  decode (value: string, request: FastifyRequest, sessionName: string): Decoded | undefined
}

/** What a request's session slot holds once it is known that the request has no session. */
const NO_SESSION = Symbol('no session')

/** A decoded session and the exact cookie chunks it came from. */
interface CachedSession {
  readonly chunks: readonly string[]
  /** Frozen: the same object is handed to every request that sends these cookies. */
  readonly session: CognitoSessionData
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
      encode: (data, sessionName) => {
        const session = scope.createSecureSession({ ...data })
        return { value: toCookieSafe(scope.encodeSecureSession(session, sessionName)), issuedAt: session.get('__ts') }
      },
      decode: (value, request, sessionName) => {
        const session = scope.decodeSecureSession(fromCookieSafe(value), request.log, sessionName)
        if (session === null) return undefined
        return { data: session.data() as Record<string, unknown>, issuedAt: session.get('__ts') }
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

/** A copy that shares no memory with `value` (a slice of a request header would keep the whole header alive). */
function detached (value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1')
}

function isSessionData (value: Record<string, unknown> | undefined): value is Record<string, unknown> & CognitoSessionData {
  return value !== undefined && value.v === 1 && typeof value.sid === 'string' && typeof value.sub === 'string' && typeof value.accessToken === 'string' &&
    typeof value.expiresAt === 'number' && typeof value.createdAt === 'number' &&
    (value.idToken === undefined || typeof value.idToken === 'string') &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string') &&
    (value.userInfo === undefined || isPlainObject(value.userInfo)) &&
    (value.data === undefined || isPlainObject(value.data))
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
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
  /** Decoded sessions kept in memory (0: none). Default {@link DEFAULT_SESSION_CACHE_SIZE}. */
  sessionCacheSize?: number
  /** Current time in epoch seconds, for the session cache; injectable for tests. */
  now?: () => number
}

/**
 * The only code that reads or writes the plugin's cookies.
 *
 * Decoded sessions are cached, keyed by the exact cookie chunks, so a request that sends the same cookies again
 * costs a map lookup and a string comparison instead of a decryption. An entry is found by the secretbox nonce
 * at the end of the value and used only when every chunk is equal to the cached one: a tampered cookie is a miss
 * and then fails decryption as it always did. Entries leave when the cookie would expire (`sessionMaxAge` after
 * it was written) or when the session's access token expires, whichever is first, on `clearSession` (logout),
 * and least recently used first beyond `sessionCacheSize`. Failures are never cached.
 */
export class SessionStore {
  readonly #codec: SessionCodec
  readonly #sessionCookie: string
  readonly #chunkNames: readonly string[]
  readonly #loginCookie: string
  readonly #chunkPrefix: string
  readonly #loginLookup: string
  readonly #sessionMaxAge: number
  readonly #secure: boolean
  /**
   * This request's session once read, written or cleared (NO_SESSION for none): a request decorator of this store,
   * so that the guard's several reads per request cost a property read (no WeakMap, no change of object shape).
   */
  readonly #slot = Symbol('fastify-cognito session')
  readonly #cache: ExpiringCache<CachedSession, number>
  readonly #now: () => number

  private constructor (codec: SessionCodec, options: SessionStoreOptions) {
    this.#codec = codec
    // __Host- makes the browser refuse the cookie unless it is Secure, for this host only, on Path=/.
    const base = options.secureCookies ? `__Host-${options.cookieName}` : options.cookieName
    this.#sessionCookie = `${base}_session`
    this.#chunkNames = Array.from({ length: MAX_SESSION_CHUNKS }, (_, i) => `${this.#sessionCookie}.${i}`)
    this.#chunkPrefix = `${this.#sessionCookie}.`
    this.#loginCookie = `${base}_login`
    this.#loginLookup = `${this.#loginCookie}=`
    this.#sessionMaxAge = options.sessionMaxAge
    this.#secure = options.secureCookies
    this.#now = options.now ?? (() => Date.now() / 1000)
    this.#cache = new ExpiringCache(options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE, this.#now)
  }

  static async register (fastify: FastifyInstance, options: SessionStoreOptions): Promise<SessionStore> {
    const store = new SessionStore(await registerCodec(fastify, options.sessionKeys, options.sessionMaxAge), options)
    fastify.decorateRequest(store.#slot, null)
    return store
  }

  #remembered (request: FastifyRequest): CognitoSessionData | null | undefined {
    const known = (request as unknown as Record<symbol, CognitoSessionData | typeof NO_SESSION | null | undefined>)[this.#slot]
    return known === NO_SESSION ? null : known ?? undefined
  }

  #memo (request: FastifyRequest, session: CognitoSessionData | null): void {
    (request as unknown as Record<symbol, unknown>)[this.#slot] = session ?? NO_SESSION
  }

  /** Every cookie name the store may set: the session chunks and the login transaction. */
  get cookieNames (): { session: string, login: string } {
    return { session: this.#sessionCookie, login: this.#loginCookie }
  }

  /** How many decoded sessions are cached now (diagnostics and tests). */
  get cachedSessionCount (): number {
    return this.#cache.size
  }

  /**
   * The session of this request, or null. Tampered, truncated, foreign or expired cookies are no session. The
   * object is frozen and may be shared with other requests that send the same cookies: copy it to change it.
   */
  readSession (request: FastifyRequest): CognitoSessionData | null {
    const known = this.#remembered(request)
    if (known !== undefined) return known
    const chunks = this.#readChunks(request)
    const cached = this.#cachedEntry(chunks)
    if (cached !== undefined) {
      // Guards read the session more than once per request: the next read is a property read.
      this.#memo(request, cached.session)
      return cached.session
    }
    let session: CognitoSessionData | null = null
    if (chunks.length > 0) {
      const decoded = this.#codec.decode(chunks.join(''), request, SESSION)
      const packed = decoded?.data.z
      const data = typeof packed === 'string' ? unpackSession(packed) : undefined
      if (isSessionData(data)) {
        session = { v: 1, sid: data.sid, sub: data.sub, accessToken: data.accessToken, expiresAt: data.expiresAt, createdAt: data.createdAt }
        if (data.idToken !== undefined) session.idToken = data.idToken
        if (data.refreshToken !== undefined) session.refreshToken = data.refreshToken
        if (data.userInfo !== undefined) session.userInfo = data.userInfo
        if (data.data !== undefined) session.data = data.data
        deepFreeze(session)
        if (this.#cache.maxEntries > 0) this.#remember(chunks.map(detached), session, decoded?.issuedAt)
      }
    }
    this.#memo(request, session)
    return session
  }

  writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): void {
    const { value, issuedAt } = this.#codec.encode({ z: packSession(session) }, SESSION)
    const count = Math.ceil(value.length / COOKIE_CHUNK_LENGTH)
    if (count > MAX_SESSION_CHUNKS) throw new Error('fastify-cognito: the session is too large for cookies')
    const attributes = { maxAge: this.#sessionMaxAge, secure: this.#secure }
    const chunks: string[] = []
    for (let i = 0; i < count; i++) {
      const chunk = value.slice(i * COOKIE_CHUNK_LENGTH, (i + 1) * COOKIE_CHUNK_LENGTH)
      chunks.push(chunk)
      setCookie(reply, this.#chunkNames[i] as string, chunk, attributes)
    }
    this.#clearChunksFrom(request, reply, count)
    this.#forget(request)
    // The browser sends these very chunks next: that request is a cache hit.
    // A JSON copy: exactly what decrypting these cookies gives, and the caller's objects stay the caller's.
    if (this.#cache.maxEntries > 0) this.#remember(chunks, deepFreeze(JSON.parse(JSON.stringify(session)) as CognitoSessionData), issuedAt)
    this.#memo(request, session)
  }

  clearSession (request: FastifyRequest, reply: FastifyReply): void {
    this.#forget(request)
    this.#clearChunksFrom(request, reply, 0)
    this.#memo(request, null)
  }

  /** The cache entry for exactly these session cookie chunks, if any. */
  #cachedEntry (chunks: readonly string[]): CachedSession | undefined {
    const count = chunks.length
    if (count === 0) return undefined
    const entry = this.#cache.get(tailIndex(chunks[count - 1] as string, INDEX_CHARACTERS))
    if (entry === undefined || entry.chunks.length !== count) return undefined
    for (let i = 0; i < count; i++) {
      if (entry.chunks[i] !== chunks[i]) return undefined
    }
    return entry
  }

  #remember (chunks: string[], session: CognitoSessionData, issuedAt: unknown): void {
    if (typeof issuedAt !== 'number' || chunks.length === 0) return
    const deadline = Math.min(issuedAt + this.#sessionMaxAge, session.expiresAt)
    this.#cache.set(tailIndex(chunks[chunks.length - 1] as string, INDEX_CHARACTERS), { chunks, session }, deadline)
  }

  /** Drops the cache entry of this request's session cookies (logout, a new session). */
  #forget (request: FastifyRequest): void {
    const entry = this.#cachedEntry(this.#readChunks(request))
    if (entry !== undefined) this.#cache.delete(tailIndex(entry.chunks[entry.chunks.length - 1] as string, INDEX_CHARACTERS))
  }

  readLoginTransactions (request: FastifyRequest): LoginTransaction[] {
    const value = readCookie(request.headers.cookie, this.#loginLookup)
    if (value === undefined || value === '') return []
    const data = this.#codec.decode(value, request, LOGIN)?.data
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
      this.clearLoginTransactions(request, reply)
    } else {
      this.#writeLoginTransactions(reply, rest)
    }
  }

  clearLoginTransactions (request: FastifyRequest, reply: FastifyReply): void {
    if (readCookie(request.headers.cookie, this.#loginLookup) !== undefined) this.#clear(reply, this.#loginCookie)
  }

  #writeLoginTransactions (reply: FastifyReply, transactions: LoginTransaction[]): void {
    setCookie(reply, this.#loginCookie, this.#codec.encode({ transactions }, LOGIN).value, { maxAge: LOGIN_TRANSACTION_MAX_AGE, secure: this.#secure })
  }

  /** The session cookie chunks of this request, in order, up to the first one missing or empty. */
  #readChunks (request: FastifyRequest): string[] {
    return readCookieChunks(request.headers.cookie, this.#chunkPrefix, MAX_SESSION_CHUNKS)
  }

  #clearChunksFrom (request: FastifyRequest, reply: FastifyReply, first: number): void {
    // Every chunk the browser sent from `first` on, also past a gap: a cookie it does not have needs no deleting.
    const sent = readNumberedCookies(request.headers.cookie, this.#chunkPrefix, MAX_SESSION_CHUNKS)
    for (let i = first; i < sent.length; i++) {
      if (sent[i] !== undefined) this.#clear(reply, this.#chunkNames[i] as string)
    }
  }

  #clear (reply: FastifyReply, name: string): void {
    setCookie(reply, name, '', { maxAge: 0, secure: this.#secure })
  }
}
