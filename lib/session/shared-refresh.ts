import { CognitoRefreshPendingError, CognitoSessionExpiredError } from '../errors.js'
import type { Clock } from '../util/clock.js'
import { randomToken } from '../util/random.js'
import type { CognitoSessionData, RefreshOutcome } from './model.js'
import { refreshDueAt } from './refresh.js'
import type { BoundedStore } from './store-calls.js'
import type { StoreEvents } from './store-events.js'
import type { StoreKeys, StoreRecordCipher, Ticket } from './store-records.js'

/** What the refresh needs of the server-side store (server-store.ts). */
export interface RefreshableStore {
  readonly keys: StoreKeys
  readonly records: StoreRecordCipher
  readonly calls: BoundedStore
  readonly events: StoreEvents
  readStored: (ticket: Ticket) => Promise<CognitoSessionData | null>
  remember: (ticket: Ticket, session: CognitoSessionData) => void
}

/** How often a request waiting for another instance's refresh looks at the store again, ms. */
const POLL_MS = 50

/**
 * One refresh per session across the fleet (the model of oauth2-proxy's Redis lock): the instance that takes the
 * session's lock reads the session again and calls Cognito only if nobody refreshed it meanwhile, then stores the
 * result only if the session still exists. The others go on with their current token while it is still valid (it
 * is only due); with an expired one they wait, bounded by the lock's life, for the stored result (woken by the
 * refresh's announcement, else looking again every 50 ms, taking the lock themselves if it is released without a
 * result), and when time is up answer 503 with Retry-After.
 * Within one instance, requests of one session share one attempt.
 */
export class SharedRefresh {
  readonly #store: RefreshableStore
  readonly #lockMs: number
  readonly #clock: Clock
  readonly #inflight = new Map<string, Promise<CognitoSessionData | RefreshOutcome>>()

  constructor (store: RefreshableStore, options: { lockMs: number, clock: Clock }) {
    this.#store = store
    this.#lockMs = options.lockMs
    this.#clock = options.clock
  }

  async run (ticket: Ticket, session: CognitoSessionData, refresh: (current: CognitoSessionData) => Promise<RefreshOutcome>): Promise<CognitoSessionData | RefreshOutcome> {
    let pending = this.#inflight.get(ticket.sid)
    if (pending === undefined) {
      pending = this.#refreshOnce(ticket, session, refresh).finally(() => { this.#inflight.delete(ticket.sid) })
      this.#inflight.set(ticket.sid, pending)
    }
    return await pending
  }

  async #refreshOnce (ticket: Ticket, session: CognitoSessionData, refresh: (current: CognitoSessionData) => Promise<RefreshOutcome>): Promise<CognitoSessionData | RefreshOutcome> {
    const store = this.#store
    const owner = randomToken()
    const lock = store.keys.lock(ticket.sid)
    const deadline = this.#clock.millis() + this.#lockMs
    for (;;) {
      if (await store.calls.call('acquireLock', async (s) => await s.acquireLock(lock, owner, this.#lockMs))) {
        try {
          return await this.#refreshHolding(ticket, session, refresh)
        } finally {
          // Best effort: the lock expires by itself.
          await store.calls.call('releaseLock', async (s) => { await s.releaseLock(lock, owner) }).catch(() => {})
        }
      }
      const current = await this.#readCurrent(ticket)
      if (this.#isRefreshedElsewhere(session, current)) return current
      // Only due, not expired: go on with it while another instance refreshes (no request waits that need not).
      if (session.expiresAt > this.#clock.seconds()) return session
      if (this.#clock.millis() >= deadline) break
      await store.events.refreshedOrAfter(ticket.sid, POLL_MS)
    }
    // The other instance did not finish in time, and the current token has expired: retry later.
    throw new CognitoRefreshPendingError()
  }

  /** Holding the lock: read again, and refresh only what nobody refreshed meanwhile. */
  async #refreshHolding (ticket: Ticket, session: CognitoSessionData, refresh: (current: CognitoSessionData) => Promise<RefreshOutcome>): Promise<CognitoSessionData | RefreshOutcome> {
    const store = this.#store
    const current = await this.#readCurrent(ticket)
    if (this.#isRefreshedElsewhere(session, current)) return current
    const outcome = await refresh(current)
    const value = store.records.seal(outcome.session, ticket.secret, this.#clock.seconds())
    const written = await store.calls.call('replace', async (s) => await s.replace(store.keys.session(ticket.sid), value))
    // Signed out while Cognito was answering: the new tokens are not kept (a refresh never brings a session back).
    if (!written) throw new CognitoSessionExpiredError('The session was signed out: sign in again')
    store.remember(ticket, outcome.session)
    await store.events.announceRefreshed(ticket.sid).catch(() => {})
    return outcome
  }

  /** The session as stored now; a session no longer stored was signed out. */
  async #readCurrent (ticket: Ticket): Promise<CognitoSessionData> {
    const current = await this.#store.readStored(ticket)
    if (current === null) throw new CognitoSessionExpiredError('The session was signed out: sign in again')
    return current
  }

  /** Whether another instance refreshed the session this request knows: other tokens, still valid. */
  #isRefreshedElsewhere (session: CognitoSessionData, current: CognitoSessionData): boolean {
    return current.accessToken !== session.accessToken && refreshDueAt(current, 0) > this.#clock.seconds()
  }
}
