import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoClient } from '../cognito/client.js'
import { CognitoInvalidGrantError, CognitoSessionExpiredError } from '../errors.js'
import { verifyTokenSet, type VerifiedTokenSet } from '../tokens/token-set.js'
import type { CognitoTokenVerifier } from '../tokens/verifier.js'
import type { Clock } from '../util/clock.js'
import { ExpiringCache } from '../util/expiring-cache.js'
import { hasOutlivedMaxAge, refreshedSession, type CognitoSessionData } from './model.js'
import type { SessionStore } from './store.js'

/**
 * A finished refresh is remembered this long under the refresh token it used, so that requests still carrying the
 * old cookie (sent before the browser stored the new one) get the same new tokens instead of a second token call,
 * or, with rotation, an `invalid_grant` for a refresh token that was just rotated away.
 */
const RESULT_REUSE_SECONDS = 30
const MAX_REMEMBERED = 10_000

/**
 * Ends a session that outlived `maxSessionAge` (seconds since sign-in): its cookies are cleared on this reply and
 * CognitoSessionExpiredError is thrown. Refreshing never extends a sign-in past it.
 */
export function assertSessionAge (store: SessionStore, request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData, maxSessionAge: number, now: number): void {
  if (!hasOutlivedMaxAge(session, maxSessionAge, now)) return
  store.clearSession(request, reply)
  throw new CognitoSessionExpiredError('The session has reached its maximum age: sign in again')
}

export interface RefreshOutcome {
  session: CognitoSessionData
  verified: VerifiedTokenSet
}

export interface SessionRefresherOptions {
  client: CognitoClient
  verifier: CognitoTokenVerifier
  store: SessionStore
  requireIdToken: boolean
  /** Absolute session lifetime in seconds since sign-in. */
  maxSessionAge: number
  /** Called once per refresh that reached Cognito (not for requests that joined it). */
  onRefreshed?: ((request: FastifyRequest, outcome: RefreshOutcome) => Promise<void>) | undefined
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
  readonly #done: ExpiringCache<RefreshOutcome>

  constructor (options: SessionRefresherOptions) {
    this.#options = options
    this.#done = new ExpiringCache(MAX_REMEMBERED, options.clock.seconds)
  }

  async refresh (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): Promise<RefreshOutcome> {
    const { store, maxSessionAge, clock } = this.#options
    assertSessionAge(store, request, reply, session, maxSessionAge, clock.seconds())
    const refreshToken = session.refreshToken
    if (refreshToken === undefined) throw new CognitoSessionExpiredError('The session has no refresh token: sign in again')
    let outcome: RefreshOutcome
    try {
      outcome = this.#done.get(refreshToken) ?? await this.#join(request, refreshToken, session)
    } catch (error) {
      if (error instanceof CognitoInvalidGrantError) {
        store.clearSession(request, reply)
        throw new CognitoSessionExpiredError('The refresh token is revoked or expired: sign in again')
      }
      throw error
    }
    store.writeSession(request, reply, outcome.session)
    return outcome
  }

  /** Forgets a remembered refresh (logout), so a copy of the old cookie cannot pick up its tokens. */
  forget (refreshToken: string): void {
    this.#done.delete(refreshToken)
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
    const { client, verifier, requireIdToken, onRefreshed, clock } = this.#options
    const tokens = await client.refresh(refreshToken)
    const verified = await verifyTokenSet(verifier, tokens, { requireIdToken, sub: session.sub })
    const outcome = { session: refreshedSession(session, tokens, verified.access.exp), verified }
    if (onRefreshed !== undefined) await onRefreshed(request, outcome)
    this.#done.set(refreshToken, outcome, clock.seconds() + RESULT_REUSE_SECONDS)
    return outcome
  }
}
