import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CognitoSessionTooLargeError } from '../errors.js'
import { ExpiringCache, tailIndex } from '../util/expiring-cache.js'
import { deepFreeze } from '../util/freeze.js'
import { SessionCookieCipher } from './codec.js'
import { readCookieChunks, readNumberedCookies, setCookie } from './cookies.js'
import { parseSession, type CognitoSessionData } from './model.js'
import { packSession, unpackSession } from './pack.js'
import type { SessionStore } from './store.js'

/** Browsers drop cookies over 4096 bytes (name, value and attributes); chunks leave room for name and attributes. */
export const COOKIE_CHUNK_LENGTH = 3800
/**
 * Default budget for the session cookies' values: two cookies. Every request carries them, and Node's default
 * request-head limit is 16 KiB (many proxies allow 8 KB): a session that does not fit is refused at sign-in
 * rather than written and then answered 431 on every request, /logout included.
 */
export const DEFAULT_SESSION_COOKIE_BUDGET = 2 * COOKIE_CHUNK_LENGTH
/** The most `maxSessionCookieBytes` may allow: four cookies, still under Node's 16 KiB with the rest of a request. */
export const MAX_SESSION_COOKIE_BUDGET = 4 * COOKIE_CHUNK_LENGTH
/** Chunks read and cleared: more than any budget writes, so that cookies of a larger older session are cleared. */
export const MAX_SESSION_CHUNKS = 8
/** Default number of decoded sessions kept per process (a session with its cookie is ~5-20 KB). */
export const DEFAULT_SESSION_CACHE_SIZE = 1000
/**
 * A session cookie value ends in ciphertext, which looks random: the cache is indexed by a number made from its
 * last characters (a hit still compares every chunk).
 */
const INDEX_CHARACTERS = 8

/** What a request's session slot holds once it is known that the request has no session. */
const NO_SESSION = Symbol('no session')

/** A decoded session and the exact cookie chunks it came from. */
interface CachedSession {
  readonly chunks: readonly string[]
  /** Frozen: the same object is handed to every request that sends these cookies. */
  readonly session: CognitoSessionData
}

export interface CookieSessionStoreOptions {
  /** The session cookie's name (`<cookieName>_session`, `__Host-` prefixed when Secure); chunks are `<name>.N`. */
  cookieName: string
  /** The keys (session/keys.ts): the first encrypts, all decrypt. */
  keys: Buffer[]
  /** Most bytes of cookie values a session may take. Default {@link DEFAULT_SESSION_COOKIE_BUDGET}. */
  cookieBudget?: number
  secureCookies: boolean
  sessionMaxAge: number
  /** Decoded sessions kept in memory (0: none). Default {@link DEFAULT_SESSION_CACHE_SIZE}. */
  sessionCacheSize?: number
  /** Current time in epoch seconds; injectable for tests. */
  now?: () => number
}

/** A copy that shares no memory with `value` (a slice of a request header would keep the whole header alive). */
function detached (value: string): string {
  return Buffer.from(value, 'latin1').toString('latin1')
}

/**
 * The session in encrypted cookies: packed (pack.ts), encrypted (codec.ts), split into chunks of at most
 * {@link COOKIE_CHUNK_LENGTH} characters.
 *
 * Decoded sessions are cached, keyed by the exact cookie chunks, so a request that sends the same cookies again
 * costs a map lookup and a string comparison instead of a decryption. An entry is found by the secretbox nonce
 * at the end of the value and used only when every chunk is equal to the cached one: a tampered cookie is a miss
 * and then fails decryption as it always did. Entries leave when the cookie would expire (`sessionMaxAge` after
 * it was written) or when the session's access token expires, whichever is first, on `clearSession` (logout),
 * and least recently used first beyond `sessionCacheSize`. Failures are never cached.
 */
export class CookieSessionStore implements SessionStore {
  readonly #cipher: SessionCookieCipher
  readonly #budget: number
  readonly #now: () => number
  /** Sessions signed out in this process (by sid), refused until they could have expired anyway. */
  readonly #ended: ExpiringCache<true>
  readonly #cookieName: string
  readonly #chunkNames: readonly string[]
  readonly #chunkPrefix: string
  readonly #sessionMaxAge: number
  readonly #secure: boolean
  /**
   * This request's session once read, written or cleared (NO_SESSION for none): a request decorator of this store,
   * so that the guard's several reads per request cost a property read (no WeakMap, no change of object shape).
   */
  readonly #slot = Symbol('fastify-cognito session')
  readonly #cache: ExpiringCache<CachedSession, number>

  constructor (fastify: FastifyInstance, options: CookieSessionStoreOptions) {
    this.#cipher = new SessionCookieCipher(options.keys, options.sessionMaxAge)
    this.#budget = options.cookieBudget ?? DEFAULT_SESSION_COOKIE_BUDGET
    this.#now = options.now ?? (() => Date.now() / 1000)
    this.#ended = new ExpiringCache(Math.max(options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE, 1000) * 10, this.#now)
    this.#cookieName = options.cookieName
    this.#chunkNames = Array.from({ length: MAX_SESSION_CHUNKS }, (_, i) => `${options.cookieName}.${i}`)
    this.#chunkPrefix = `${options.cookieName}.`
    this.#sessionMaxAge = options.sessionMaxAge
    this.#secure = options.secureCookies
    this.#cache = new ExpiringCache(options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE, this.#now)
    fastify.decorateRequest(this.#slot, null)
  }

  get cookieName (): string {
    return this.#cookieName
  }

  /** How many decoded sessions are cached now (diagnostics and tests). */
  get cachedSessionCount (): number {
    return this.#cache.size
  }

  /** Nothing to wait for: the session is in the request's cookies. */
  loadSession (): undefined {
    return undefined
  }

  /**
   * The session of this request, or null. Tampered, truncated, foreign or expired cookies are no session. The
   * object is frozen and may be shared with other requests that send the same cookies: copy it to change it.
   */
  readSession (request: FastifyRequest): CognitoSessionData | null {
    const known = (request as unknown as Record<symbol, CognitoSessionData | typeof NO_SESSION | null>)[this.#slot] ?? null
    if (known !== null) return known === NO_SESSION ? null : known
    const chunks = this.#readChunks(request)
    const cached = this.#cachedEntry(chunks)
    if (cached !== undefined) {
      // Guards read the session more than once per request: the next read is a property read.
      this.#memo(request, cached.session)
      return cached.session
    }
    let session: CognitoSessionData | null = null
    if (chunks.length > 0) {
      const opened = this.#cipher.open(chunks.join(''), this.#now())
      session = opened === undefined ? null : parseSession(unpackSession(opened.payload)) ?? null
      if (session !== null && this.#cache.maxEntries > 0) this.#remember(chunks.map(detached), session, opened?.sealedAt)
    }
    this.#memo(request, session)
    return session
  }

  /** Writes the session's cookies; a session over the budget is refused with CognitoSessionTooLargeError. */
  writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): void {
    const issuedAt = Math.floor(this.#now())
    const value = this.#cipher.seal(packSession(session), issuedAt)
    if (value.length > this.#budget) throw new CognitoSessionTooLargeError(value.length, this.#budget)
    const count = Math.ceil(value.length / COOKIE_CHUNK_LENGTH)
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

  /** Clears the session's cookies; the session itself stays refused in this process (see hasEnded). */
  clearSession (request: FastifyRequest, reply: FastifyReply): void {
    const session = this.readSession(request)
    if (session !== null) this.#ended.set(session.sid, true, session.createdAt + this.#sessionMaxAge)
    this.#forget(request)
    this.#clearChunksFrom(request, reply, 0)
    this.#memo(request, null)
  }

  /** Whether this session was cleared in this process: a copy of its cookies (also an older one) is refused. */
  hasEnded (session: CognitoSessionData): boolean {
    return this.#ended.size > 0 && this.#ended.get(session.sid) !== undefined
  }

  #memo (request: FastifyRequest, session: CognitoSessionData | null): void {
    (request as unknown as Record<symbol, unknown>)[this.#slot] = session ?? NO_SESSION
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

  #remember (chunks: string[], session: CognitoSessionData, issuedAt: number | undefined): void {
    if (issuedAt === undefined || chunks.length === 0) return
    const deadline = Math.min(issuedAt + this.#sessionMaxAge, session.expiresAt)
    this.#cache.set(tailIndex(chunks[chunks.length - 1] as string, INDEX_CHARACTERS), { chunks, session }, deadline)
  }

  /** Drops the cache entry of this request's session cookies (logout, a new session). */
  #forget (request: FastifyRequest): void {
    const entry = this.#cachedEntry(this.#readChunks(request))
    if (entry !== undefined) this.#cache.delete(tailIndex(entry.chunks[entry.chunks.length - 1] as string, INDEX_CHARACTERS))
  }

  /** The session cookie chunks of this request, in order, up to the first one missing or empty. */
  #readChunks (request: FastifyRequest): string[] {
    return readCookieChunks(request.headers.cookie, this.#chunkPrefix, MAX_SESSION_CHUNKS)
  }

  #clearChunksFrom (request: FastifyRequest, reply: FastifyReply, first: number): void {
    // Every chunk the browser sent from `first` on, also past a gap (a cookie it does not have needs no deleting),
    // and every chunk this very reply is about to set (a refresh, then a logout, in one request).
    const sent = readNumberedCookies(request.headers.cookie, this.#chunkPrefix, MAX_SESSION_CHUNKS)
    const setting = this.#chunksSetBy(reply)
    for (let i = first; i < MAX_SESSION_CHUNKS; i++) {
      if (sent[i] !== undefined || setting.has(i)) setCookie(reply, this.#chunkNames[i] as string, '', { maxAge: 0, secure: this.#secure })
    }
  }

  /** The numbers of the session chunks the reply sets with a value so far. */
  #chunksSetBy (reply: FastifyReply): Set<number> {
    const numbers = new Set<number>()
    const header = reply.getHeader('set-cookie')
    if (header === undefined) return numbers
    for (const line of Array.isArray(header) ? header : [String(header)]) {
      for (let i = 0; i < MAX_SESSION_CHUNKS; i++) {
        const name = `${this.#chunkNames[i] as string}=`
        if (line.startsWith(name) && line.charAt(name.length) !== ';') numbers.add(i)
      }
    }
    return numbers
  }
}
