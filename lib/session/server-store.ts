import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { CognitoSessionStoreUnavailableError } from '../errors.js'
import type { CognitoSessionStore } from '../types-store.js'
import type { Clock } from '../util/clock.js'
import { ExpiringCache } from '../util/expiring-cache.js'
import { MAX_SESSION_CHUNKS } from './cookie-store.js'
import { expireSentNumberedCookies, readCookie, setCookie } from './cookies.js'
import { hasOutlivedMaxAge, type CognitoSessionData, type RefreshOutcome } from './model.js'
import { BoundedStore } from './store-calls.js'
import { StoreEvents } from './store-events.js'
import { formatTicket, newTicketSecret, parseTicket, StoreKeys, StoreRecordCipher, type SessionEnvelope, type Ticket } from './store-records.js'
import type { SessionStore } from './store.js'
import { SharedRefresh } from './shared-refresh.js'

/** What a request's session slot holds once it is known that the request has no session. */
const NO_SESSION = Symbol('no session')

export interface ServerSessionStoreOptions {
  store: CognitoSessionStore
  /** Prefix of every key: the store's own `keyPrefix`, else `fastify-cognito:<clientId>:`. */
  keyPrefix: string
  /** The ticket cookie's name. */
  cookieName: string
  /** The cookie store's chunk prefix (`<name>_session.`): those cookies are cleared at sign-in. */
  legacyChunkPrefix: string
  secretKeys: readonly Buffer[]
  clientId: string
  secureCookies: boolean
  sessionMaxAge: number
  /** Decoded sessions kept in memory (0: none, every request reads the store). */
  sessionCacheSize: number
  /** Bound of every store call, ms. */
  timeoutMs: number
  /** How long a refresh may hold a session's lock (longer than a refresh at Cognito can take), ms. */
  lockMs: number
  /** Whether requests go on while the list of signed-out tokens is not loaded. */
  revocationFailOpen: boolean
  clock: Clock
  log: FastifyBaseLogger
  /** Refuses the access tokens of `id` (origin_jti or jti) in this process until `expiresAt` (epoch seconds). */
  revokeLocally: (id: string, expiresAt: number) => void
}

interface CachedSession {
  readonly ticket: Ticket
  readonly session: CognitoSessionData
}

/**
 * Sessions on the server (Redis), with a small ticket cookie. The store is read once per session per instance:
 * decoded sessions are cached in memory, and every instance drops its copy the moment a session ends or is refreshed
 * anywhere (pub/sub, store-events.ts). While that subscription is down the cache is not used and every request
 * reads the store. Writes happen at sign-in, refresh (shared-refresh.ts, under a lock) and sign-out only.
 */
export class ServerSessionStore implements SessionStore {
  readonly keys: StoreKeys
  readonly records: StoreRecordCipher
  readonly calls: BoundedStore
  readonly events: StoreEvents
  readonly #options: ServerSessionStoreOptions
  readonly #cookieEquals: string
  readonly #slot = Symbol('fastify-cognito session')
  readonly #ticketSlot = Symbol('fastify-cognito ticket')
  /**
   * Decoded sessions by the exact ticket text (`<sid>.<secret>`): a hit needs the whole secret, and a lookup hashes
   * the whole text, so no comparison of a guessed secret against the real one ever runs (nothing to time). Entries
   * of a session are found by its id for invalidation (a pass over at most `sessionCacheSize` entries, per event).
   */
  readonly #cache: ExpiringCache<CachedSession>
  /** Sessions ended in this process or announced as ended, refused whatever copy of them comes back. */
  readonly #ended: ExpiringCache<true>
  readonly #refresh: SharedRefresh
  /** Store reads under way, by ticket. */
  readonly #reading = new Map<string, Promise<CognitoSessionData | null>>()

  constructor (fastify: FastifyInstance, options: ServerSessionStoreOptions) {
    this.#options = options
    this.keys = new StoreKeys(options.keyPrefix)
    this.records = new StoreRecordCipher(options.secretKeys, options.clientId, options.sessionMaxAge)
    this.calls = new BoundedStore(options.store, options.timeoutMs, options.log)
    this.#cookieEquals = `${options.cookieName}=`
    this.#cache = new ExpiringCache(options.sessionCacheSize, options.clock.seconds)
    this.#ended = new ExpiringCache(Math.max(options.sessionCacheSize, 1000) * 10, options.clock.seconds)
    this.events = new StoreEvents(this.calls, this.keys, {
      clock: options.clock,
      log: options.log,
      failOpen: options.revocationFailOpen,
      onEnded: (sid) => { this.#markEnded(sid) },
      onRefreshed: (sid) => { this.#forget(sid) },
      onStale: () => { this.#cache.clear() },
      revokeLocally: options.revokeLocally
    })
    this.#refresh = new SharedRefresh(this, { lockMs: options.lockMs, clock: options.clock })
    fastify.decorateRequest(this.#slot, null)
    fastify.decorateRequest(this.#ticketSlot, null)
  }

  /** Subscribes to the fleet's events and loads the list of signed-out tokens (onReady). */
  async start (): Promise<void> {
    await this.events.start()
  }

  async close (): Promise<void> {
    await this.events.close()
  }

  get cachedSessionCount (): number {
    return this.#cache.size
  }

  loadSession (request: FastifyRequest): Promise<void> | undefined {
    if (this.#known(request) !== null) return undefined
    const text = readCookie(request.headers.cookie, this.#cookieEquals)
    // Hot path: a ticket seen before, while announcements arrive: no parsing, no store.
    const cached = text !== undefined && this.events.live ? this.#cache.get(text) : undefined
    if (cached !== undefined) {
      this.#memo(request, cached.session, cached.ticket)
      return undefined
    }
    const ticket = parseTicket(text)
    if (ticket === undefined) {
      this.#memo(request, null, undefined)
      return undefined
    }
    return this.#fetch(request, ticket)
  }

  readSession (request: FastifyRequest): CognitoSessionData | null {
    const known = this.#known(request)
    return known === null || known === NO_SESSION ? null : known
  }

  /** The ticket of this request's session (after loadSession). */
  ticketOf (request: FastifyRequest): Ticket | undefined {
    return (request as unknown as Record<symbol, Ticket | null>)[this.#ticketSlot] ?? undefined
  }

  /** A new session (sign-in): stored with its expiry, indexed under its user, and its ticket set as the cookie. */
  async writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): Promise<void> {
    await this.#endPreviousSession(request)
    const now = this.#options.clock.seconds()
    const ttl = Math.max(1, Math.ceil(session.createdAt + this.#options.sessionMaxAge - now))
    const ticket: Ticket = { sid: session.sid, secret: newTicketSecret() }
    const value = this.records.seal(session, ticket.secret, now)
    await this.calls.call('create', async (store) => { await store.create(this.keys.session(session.sid), value, ttl) })
    await this.calls.call('addToSet', async (store) => { await store.addToSet(this.keys.userSessions(session.sub), session.sid, ttl) })
    setCookie(reply, this.#options.cookieName, formatTicket(ticket), { maxAge: ttl, secure: this.#options.secureCookies })
    // The cookie store's chunks a browser still sends after the app moved to a store: kilobytes on every request.
    expireSentNumberedCookies(request.headers.cookie, reply, this.#options.legacyChunkPrefix, MAX_SESSION_CHUNKS, this.#options.secureCookies)
    this.remember(ticket, session)
    this.#memo(request, session, ticket)
  }

  /**
   * Ends this request's session everywhere: deleted from the store (a failure rejects with the 503 and leaves the
   * cookie), announced to every instance, then the cookie is cleared.
   */
  clearSession (request: FastifyRequest, reply: FastifyReply): Promise<void> | undefined {
    const session = this.readSession(request)
    if (session !== null && !hasOutlivedMaxAge(session, this.#options.sessionMaxAge, this.#options.clock.seconds())) {
      return this.endStored(session.sid, session.sub).then(() => { this.#clearCookie(request, reply) })
    }
    // A session past its maximum age has expired in the store by itself (its TTL): the cookie goes at once, on this
    // very reply, and the store is tidied without waiting.
    if (session !== null) this.endStored(session.sid, session.sub).catch(() => {})
    this.#clearCookie(request, reply)
    return undefined
  }

  #clearCookie (request: FastifyRequest, reply: FastifyReply): void {
    setCookie(reply, this.#options.cookieName, '', { maxAge: 0, secure: this.#options.secureCookies })
    this.#memo(request, null, undefined)
  }

  /** Deletes a session from the store, tells every instance, and drops it from its user's index. */
  async endStored (sid: string, sub: string): Promise<void> {
    await this.calls.call('delete', async (store) => { await store.delete(this.keys.session(sid)) })
    this.#markEnded(sid)
    // Announced right after the delete: if a later call fails, no other instance goes on serving the deleted session
    // from memory (this one has marked it ended, so a retry of the sign-out finds nothing to announce).
    await this.events.announceEnded(sid)
    // The index only lists sessions for endSessions, which skips those already gone: a failure here ends nothing
    // less, and must not turn a finished sign-out into a 503 (logged by the bounded call).
    await this.calls.call('removeFromSet', async (store) => { await store.removeFromSet(this.keys.userSessions(sub), sid) }).catch(() => {})
  }

  /**
   * Ends every session of a user (`endSessions`, `logoutEverywhere`) but `except` (the one a sign-out ends itself);
   * resolves to their envelopes, for the caller to revoke their tokens.
   */
  async endUserSessions (sub: string, except?: string): Promise<SessionEnvelope[]> {
    const sids = await this.calls.call('setMembers', async (store) => await store.setMembers(this.keys.userSessions(sub)))
    const envelopes: SessionEnvelope[] = []
    for (const sid of sids) {
      if (sid === except) continue
      const value = await this.calls.call('get', async (store) => await store.get(this.keys.session(sid)))
      const envelope = value === null ? undefined : this.records.openEnvelope(value, this.#options.clock.seconds())
      if (envelope !== undefined) envelopes.push(envelope)
      await this.endStored(sid, sub)
    }
    return envelopes
  }

  hasEnded (session: CognitoSessionData): boolean {
    return this.#ended.size > 0 && this.#ended.get(session.sid) !== undefined
  }

  shareRefresh = async (request: FastifyRequest, session: CognitoSessionData, refresh: (current: CognitoSessionData) => Promise<RefreshOutcome>): Promise<CognitoSessionData | RefreshOutcome> => {
    const ticket = this.ticketOf(request)
    if (ticket === undefined) throw new CognitoSessionStoreUnavailableError('The session was not loaded from the store')
    const result = await this.#refresh.run(ticket, session, refresh)
    const next = 'verified' in result ? result.session : result
    this.#memo(request, next, ticket)
    return result
  }

  assertRevocationsKnown = (): void => {
    this.events.assertRevocationsKnown()
  }

  /** Reads a session from the store, bypassing the cache: null when the store has none (or not for this ticket). */
  async readStored (ticket: Ticket): Promise<CognitoSessionData | null> {
    const value = await this.calls.call('get', async (store) => await store.get(this.keys.session(ticket.sid)))
    if (value === null) return null
    const session = this.records.openSession(value, ticket.secret, this.#options.clock.seconds())
    return session === undefined || session.sid !== ticket.sid ? null : session
  }

  /** Keeps a decoded session in memory until its tokens or the session expire. */
  remember (ticket: Ticket, session: CognitoSessionData): void {
    if (this.#cache.maxEntries === 0 || this.#ended.get(session.sid) !== undefined) return
    this.#forget(session.sid)
    this.#cache.set(formatTicket(ticket), { ticket, session }, Math.min(session.expiresAt, session.createdAt + this.#options.sessionMaxAge))
  }

  async #fetch (request: FastifyRequest, ticket: Ticket): Promise<void> {
    const session = await this.#readShared(ticket)
    if (session === null || this.hasEnded(session)) {
      this.#memo(request, null, undefined)
      return
    }
    this.#memo(request, session, ticket)
  }

  /**
   * One store read for concurrent requests of one ticket (a cold instance taking a burst of one session's requests),
   * cached when it is still current: a session announced as refreshed or ended while the read was under way is not.
   */
  async #readShared (ticket: Ticket): Promise<CognitoSessionData | null> {
    const key = formatTicket(ticket)
    let reading = this.#reading.get(key)
    if (reading === undefined) {
      const epoch = this.events.epoch
      reading = this.readStored(ticket).then((session) => {
        if (session !== null && this.events.live && this.events.epoch === epoch) this.remember(ticket, session)
        return session
      }).finally(() => { this.#reading.delete(key) })
      this.#reading.set(key, reading)
    }
    return await reading
  }

  /** Drops the cached copy of a session (refreshed or ended elsewhere). */
  #forget (sid: string): void {
    if (this.#cache.size > 0) this.#cache.deleteWhere((entry) => entry.session.sid === sid)
  }

  #markEnded (sid: string): void {
    this.#forget(sid)
    this.#ended.set(sid, true, this.#options.clock.seconds() + this.#options.sessionMaxAge)
  }

  #known (request: FastifyRequest): CognitoSessionData | typeof NO_SESSION | null {
    return (request as unknown as Record<symbol, CognitoSessionData | typeof NO_SESSION | null>)[this.#slot] ?? null
  }

  #memo (request: FastifyRequest, session: CognitoSessionData | null, ticket: Ticket | undefined): void {
    const slots = request as unknown as Record<symbol, unknown>
    slots[this.#slot] = session ?? NO_SESSION
    slots[this.#ticketSlot] = ticket ?? null
  }

  /**
   * A sign-in in a browser that still holds a session ends that session (best effort): a copy of the old cookie
   * must not outlive the sign-in that replaced it. Only a ticket that opens its stored session counts.
   */
  async #endPreviousSession (request: FastifyRequest): Promise<void> {
    const ticket = parseTicket(readCookie(request.headers.cookie, this.#cookieEquals))
    if (ticket === undefined) return
    try {
      const previous = await this.readStored(ticket)
      if (previous !== null) await this.endStored(previous.sid, previous.sub)
    } catch {
      // Logged by the bounded call; the old session then ends with its TTL.
    }
  }
}
