import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoClient } from '../cognito/client.js'
import { CognitoInvalidGrantError, CognitoSessionExpiredError, CognitoSessionTooLargeError } from '../errors.js'
import { verifyTokenSet } from '../tokens/token-set.js'
import type { CognitoTokenVerifier } from '../tokens/verifier.js'
import type { Clock } from '../util/clock.js'
import { ExpiringCache } from '../util/expiring-cache.js'
import { hasOutlivedMaxAge, refreshedSession, type CognitoSessionData, type RefreshOutcome } from './model.js'

export type { RefreshOutcome } from './model.js'
import type { SessionStore } from './store.js'

/**
 * A finished refresh is remembered this long under the refresh token it used, so that requests still carrying the
 * old cookie (sent before the browser stored the new one) get the same new tokens instead of a second token call,
 * or, with rotation, an `invalid_grant` for a refresh token that was just rotated away. Only such requests: one
 * that carries the new tokens (or any other) and needs a refresh gets a new one.
 */
const RESULT_REUSE_SECONDS = 30
const MAX_REMEMBERED = 10_000
/** The part of a token's lifetime `refreshSkew` may take at most, so that a short-lived token is not refreshed on every request. */
const MAX_SKEW_SHARE = 0.5

/**
 * When a session's tokens are due for a refresh: `refreshSkew` seconds before they expire, but never earlier than
 * half-way through their lifetime (a skew longer than the tokens live would refresh on every request).
 */
export function refreshDueAt (session: CognitoSessionData, refreshSkew: number): number {
  const lifetime = Math.max(0, session.expiresAt - session.issuedAt)
  return session.expiresAt - Math.min(refreshSkew, lifetime * MAX_SKEW_SHARE)
}

/**
 * Ends a session that outlived `maxSessionAge` (seconds since sign-in): its cookies are cleared on this reply and
 * CognitoSessionExpiredError is thrown. Refreshing never extends a sign-in past it.
 */
export function assertSessionAge (store: SessionStore, request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData, maxSessionAge: number, now: number): void {
  if (!hasOutlivedMaxAge(session, maxSessionAge, now)) return
  // A server-side store has let the session expire already (its expiry is the session's end): deleting it again
  // is best effort.
  store.clearSession(request, reply)?.catch(() => {})
  throw new CognitoSessionExpiredError('The session has reached its maximum age: sign in again')
}

/** A finished refresh, remembered for the requests still carrying the session it replaced. */
interface RememberedRefresh {
  readonly outcome: RefreshOutcome
  /** The access token of the session that was refreshed away. */
  readonly replaced: string
}

export interface SessionRefresherOptions {
  client: CognitoClient
  verifier: CognitoTokenVerifier
  store: SessionStore
  requireIdToken: boolean
  /** Absolute session lifetime in seconds since sign-in. */
  maxSessionAge: number
  /** Seconds before expiry at which a remembered result is no longer handed out (see refreshDueAt). */
  refreshSkew: number
  /**
   * Runs once per refresh that reached Cognito (not for requests that joined it), before the result is stored:
   * it may complete the session (userInfo), and a throw fails the refresh.
   */
  onRefreshed?: ((request: FastifyRequest, outcome: RefreshOutcome) => Promise<RefreshOutcome>) | undefined
  clock: Clock
}

/**
 * Refreshes a session's tokens with its refresh token, single flight per refresh token in this process: N
 * concurrent requests of one session cause one call to Cognito and all get its result. `invalid_grant` (the
 * refresh token is revoked or expired) ends the session: the cookies are cleared on this reply and the error is
 * CognitoSessionExpiredError. A network fault propagates as its own typed error and leaves the cookies alone.
 */
export class SessionRefresher {
  readonly #options: SessionRefresherOptions
  readonly #inflight = new Map<string, Promise<RefreshOutcome>>()
  readonly #done: ExpiringCache<RememberedRefresh>

  constructor (options: SessionRefresherOptions) {
    this.#options = options
    this.#done = new ExpiringCache(MAX_REMEMBERED, options.clock.seconds)
  }

  async refresh (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): Promise<RefreshOutcome> {
    const { store, maxSessionAge, clock } = this.#options
    const now = clock.seconds()
    assertSessionAge(store, request, reply, session, maxSessionAge, now)
    if (store.hasEnded(session)) throw new CognitoSessionExpiredError('The session was signed out: sign in again')
    const refreshToken = session.refreshToken
    if (refreshToken === undefined) throw new CognitoSessionExpiredError('The session has no refresh token: sign in again')
    try {
      if (store.shareRefresh !== undefined) {
        const shared = await store.shareRefresh(request, session, async (current) => await this.#refreshAtCognito(request, current))
        return 'verified' in shared ? shared : await this.#adopted(shared)
      }
      const outcome = this.#reusable(refreshToken, session, now) ?? await this.#join(request, refreshToken, session)
      store.writeSession(request, reply, outcome.session)
      return outcome
    } catch (error) {
      if (error instanceof CognitoInvalidGrantError) {
        await store.clearSession(request, reply)
        throw new CognitoSessionExpiredError('The refresh token is revoked or expired: sign in again')
      }
      // A session that no longer fits in its cookies, or that Cognito ended (userInfo), cannot go on: end it
      // instead of retrying on every request.
      if (error instanceof CognitoSessionTooLargeError || error instanceof CognitoSessionExpiredError) await store.clearSession(request, reply)
      throw error
    }
  }

  /** A session another instance refreshed: its access token's claims, as a refresh of this instance would give. */
  async #adopted (session: CognitoSessionData): Promise<RefreshOutcome> {
    return { session, verified: { access: await this.#options.verifier.verifyAccessToken(session.accessToken), id: undefined } }
  }

  /** Forgets every remembered refresh of a session (logout), so that no copy of its cookies picks up new tokens. */
  forget (sid: string): void {
    this.#done.deleteWhere((entry) => entry.outcome.session.sid === sid)
  }

  /**
   * The remembered result for a request that still carries the session it replaced (same refresh token, same old
   * access token), while that result's tokens are not yet due for a refresh themselves.
   */
  #reusable (refreshToken: string, session: CognitoSessionData, now: number): RefreshOutcome | undefined {
    const remembered = this.#done.get(refreshToken)
    if (remembered === undefined || remembered.replaced !== session.accessToken) return undefined
    return refreshDueAt(remembered.outcome.session, this.#options.refreshSkew) > now ? remembered.outcome : undefined
  }

  async #join (request: FastifyRequest, refreshToken: string, session: CognitoSessionData): Promise<RefreshOutcome> {
    let pending = this.#inflight.get(refreshToken)
    if (pending === undefined) {
      pending = this.#call(request, refreshToken, session).finally(() => { this.#inflight.delete(refreshToken) })
      this.#inflight.set(refreshToken, pending)
    }
    return await pending
  }

  async #call (request: FastifyRequest, refreshToken: string, session: CognitoSessionData): Promise<RefreshOutcome> {
    const outcome = await this.#refreshAtCognito(request, session)
    this.#done.set(refreshToken, { outcome, replaced: session.accessToken }, this.#options.clock.seconds() + RESULT_REUSE_SECONDS)
    return outcome
  }

  /** One call to Cognito's token endpoint with the session's refresh token, its result verified and completed. */
  async #refreshAtCognito (request: FastifyRequest, session: CognitoSessionData): Promise<RefreshOutcome> {
    const { client, verifier, requireIdToken, onRefreshed } = this.#options
    if (session.refreshToken === undefined) throw new CognitoSessionExpiredError('The session has no refresh token: sign in again')
    const tokens = await client.refresh(session.refreshToken)
    const verified = await verifyTokenSet(verifier, tokens, { requireIdToken, sub: session.sub })
    const outcome: RefreshOutcome = { session: refreshedSession(session, tokens, verified), verified }
    return onRefreshed === undefined ? outcome : await onRefreshed(request, outcome)
  }
}
