import type { FastifyBaseLogger } from 'fastify'
import { CognitoSessionStoreUnavailableError } from '../errors.js'
import type { CognitoStoreSubscription } from '../types-store.js'
import { isPlainObject } from '../util/checks.js'
import { randomToken } from '../util/random.js'
import type { Clock } from '../util/clock.js'
import type { BoundedStore } from './store-calls.js'
import type { StoreKeys } from './store-records.js'

/** Least time between two attempts to load the list of signed-out tokens while it is not loaded, ms. */
const RELOAD_INTERVAL_MS = 1000

export interface StoreEventHandlers {
  clock: Clock
  log: FastifyBaseLogger
  /** Let requests through while the list of signed-out tokens is not loaded (option `revocationFailOpen`). */
  failOpen: boolean
  onEnded: (sid: string) => void
  onRefreshed: (sid: string) => void
  /** Messages may have been missed: whatever was cached from the store is stale. */
  onStale: () => void
  revokeLocally: (id: string, expiresAt: number) => void
}

/**
 * What the instances of a fleet tell each other through the store's pub/sub channel: a session ended, a session
 * refreshed, an access token signed out. Every instance applies the message to its memory (its session cache, its
 * list of signed-out tokens). The signed-out tokens are also kept in the store as an expiring list, loaded at start
 * and again after every reconnection, so that an instance that started later, or missed messages, catches up.
 *
 * `live` says whether messages are arriving: while it is false the session cache must not be used. `epoch` moves
 * with every message and every change of state, so that a store read that began before one is not cached.
 */
export class StoreEvents {
  live = false
  epoch = 0
  readonly #calls: BoundedStore
  readonly #keys: StoreKeys
  readonly #handlers: StoreEventHandlers
  #revocationsLoaded = false
  #loading: Promise<void> | undefined
  #lastLoad = -Infinity
  #closing = false
  /** Aborted at close: a subscription still connecting (the store is down) gives up instead of outliving the app. */
  readonly #closed = new AbortController()
  #subscription: CognitoStoreSubscription | undefined
  #retry: NodeJS.Timeout | undefined
  /** Tells this instance's own messages from the others' (it has applied them already). */
  readonly #instance = randomToken().slice(0, 16)
  readonly #waiters = new Map<string, Set<() => void>>()

  constructor (calls: BoundedStore, keys: StoreKeys, handlers: StoreEventHandlers) {
    this.#calls = calls
    this.#keys = keys
    this.#handlers = handlers
  }

  /**
   * Subscribes, then loads the list (in that order: nothing signed out in between is missed). Waits a bounded time:
   * a store that is down at start must not keep the app from starting; the subscription is tried again every
   * second until it succeeds, and until the list is loaded requests are refused (see assertRevocationsKnown).
   */
  async start (): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#subscribe(), new Promise((resolve) => { timer = setTimeout(resolve, this.#calls.timeoutMs * 4) })])
    clearTimeout(timer)
  }

  async #subscribe (): Promise<void> {
    try {
      const subscription = await this.#calls.store.subscribe(this.#keys.channel, {
        message: (message) => { this.#receive(message) },
        down: () => { this.#down() },
        up: () => { this.#up() },
        signal: this.#closed.signal
      })
      if (this.#closing) {
        await subscription.close()
        return
      }
      this.#subscription = subscription
    } catch (error) {
      if (this.#closing) return
      this.#handlers.log.warn({ error: error instanceof Error ? error.name : typeof error }, 'fastify-cognito: subscribing to the session store failed; sessions are read from the store on every request until it succeeds')
      if (!this.#closing) this.#retry = setTimeout(() => { this.#subscribe().catch(() => {}) }, RELOAD_INTERVAL_MS)
      return
    }
    this.live = true
    this.epoch++
    await this.#loadRevocations().catch(() => {})
  }

  async close (): Promise<void> {
    this.#closing = true
    clearTimeout(this.#retry)
    this.#closed.abort()
    this.live = false
    for (const waiters of this.#waiters.values()) for (const wake of waiters) wake()
    await this.#subscription?.close()
  }

  /**
   * Throws the 503 while the list of signed-out tokens is not loaded, unless the app chose to fail open. While no
   * message can arrive (the subscription is down but the store answers), the list is loaded again at most once a
   * second, so that a sign-out elsewhere is not missed for longer.
   */
  assertRevocationsKnown (): void {
    if (this.live && this.#revocationsLoaded) return
    const now = this.#handlers.clock.millis()
    if (this.#loading === undefined && now - this.#lastLoad >= RELOAD_INTERVAL_MS) {
      this.#loadRevocations().catch(() => {})
    }
    if (this.#revocationsLoaded || this.#handlers.failOpen) return
    throw new CognitoSessionStoreUnavailableError('The list of signed-out tokens is not loaded from the session store yet: retry shortly')
  }

  async announceEnded (sid: string): Promise<void> {
    await this.#publish({ t: 'end', sid })
  }

  async announceRefreshed (sid: string): Promise<void> {
    await this.#publish({ t: 'refresh', sid })
  }

  /** Refuses the access tokens of `id` on every instance until `expiresAt` (epoch seconds), this one first. */
  async revoke (id: string, expiresAt: number): Promise<void> {
    this.#handlers.revokeLocally(id, expiresAt)
    await this.announceRevoked(id, expiresAt)
  }

  /**
   * Stores and announces a revocation without applying it here (the other instances apply the announcement; this
   * one skips its own). A logout calls this before it deletes the session and then refuses the tokens here itself:
   * when a store call fails first, this process still takes the session's tokens for valid, so that the retried
   * logout revokes them again.
   */
  async announceRevoked (id: string, expiresAt: number): Promise<void> {
    const now = this.#handlers.clock.millis()
    await this.#calls.call('addExpiring', async (store) => { await store.addExpiring(this.#keys.revocations, id, expiresAt * 1000, now) })
    await this.#publish({ t: 'revoke', id, exp: expiresAt })
  }

  /** Resolves when another instance announces a refresh of `sid`, or after `ms`. */
  async refreshedOrAfter (sid: string, ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      let waiters = this.#waiters.get(sid)
      if (waiters === undefined) {
        waiters = new Set()
        this.#waiters.set(sid, waiters)
      }
      const set = waiters
      const wake = (): void => {
        clearTimeout(timer)
        set.delete(wake)
        if (set.size === 0) this.#waiters.delete(sid)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      set.add(wake)
    })
  }

  async #publish (message: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify({ ...message, i: this.#instance })
    await this.#calls.call('publish', async (store) => { await store.publish(this.#keys.channel, text) })
  }

  async #loadRevocations (): Promise<void> {
    if (this.#loading !== undefined) return await this.#loading
    this.#lastLoad = this.#handlers.clock.millis()
    this.#loading = (async () => {
      try {
        const now = this.#handlers.clock.millis()
        const members = await this.#calls.call('liveMembers', async (store) => await store.liveMembers(this.#keys.revocations, now))
        for (const [id, expiresAtMs] of members) this.#handlers.revokeLocally(id, expiresAtMs / 1000)
        this.#revocationsLoaded = true
      } finally {
        this.#loading = undefined
      }
    })()
    return await this.#loading
  }

  #receive (text: string): void {
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    // This instance applied its own announcements when it made them (and keeps the session it just refreshed).
    if (!isPlainObject(message) || message.i === this.#instance) return
    if (message.t === 'revoke' && typeof message.id === 'string' && typeof message.exp === 'number') {
      this.#handlers.revokeLocally(message.id, message.exp)
      return
    }
    if (typeof message.sid !== 'string') return
    this.epoch++
    if (message.t === 'end') this.#handlers.onEnded(message.sid)
    if (message.t === 'refresh') {
      this.#handlers.onRefreshed(message.sid)
      for (const wake of this.#waiters.get(message.sid) ?? []) wake()
    }
  }

  #down (): void {
    this.live = false
    this.epoch++
    this.#handlers.onStale()
  }

  #up (): void {
    this.epoch++
    this.#handlers.onStale()
    this.live = true
    // Signed-out tokens announced while the subscription was down: load the list again, and until it is loaded the
    // list is not known (fail closed): a load that fails here is then retried by assertRevocationsKnown, instead of
    // missed revocations being ignored until the next reconnection.
    this.#revocationsLoaded = false
    this.#loadRevocations().catch(() => {})
  }
}
