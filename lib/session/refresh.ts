import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoClient } from '../cognito/client.js'
import { CognitoInvalidGrantError, CognitoSessionExpiredError } from '../errors.js'
import { verifyTokenSet, type VerifiedTokenSet } from '../tokens/token-set.js'
import type { CognitoTokenVerifier } from '../tokens/verifier.js'
import type { CognitoSessionData, SessionStore } from './store.js'

/**
 * A finished refresh is remembered this long under the refresh token it used, so that requests still carrying the
 * old cookie (sent before the browser stored the new one) get the same new tokens instead of a second token call,
 * or, with rotation, an `invalid_grant` for a refresh token that was just rotated away.
 */
const RESULT_REUSE_MS = 30_000
const MAX_REMEMBERED = 10_000

/**
 * Ends a session that outlived `maxSessionAge` (seconds since sign-in): its cookies are cleared on this reply and
 * CognitoSessionExpiredError is thrown. Refreshing never extends a sign-in past it.
 */
export function assertSessionAge (store: SessionStore, request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData, maxSessionAge: number, now: number): void {
  if (now < session.createdAt + maxSessionAge) return
  store.clearSession(request, reply)
  throw new CognitoSessionExpiredError('The session has reached its maximum age: sign in again')
}

interface RefreshOutcome {
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
  now?: () => number
}

/**
 * Refreshes a session's tokens with its refresh token, single flight per refresh token in this process: N
 * concurrent requests of one session cause one call to Cognito and all get its result. `invalid_grant` (the
 * refresh token is revoked or expired) ends the session: the cookies are cleared on this reply and the error is
 * CognitoSessionExpiredError. A network fault propagates as its own typed error and leaves the cookies alone.
 */
export class SessionRefresher {
  readonly #options: SessionRefresherOptions
  readonly #now: () => number
  readonly #inflight = new Map<string, Promise<RefreshOutcome>>()
  readonly #done = new Map<string, { outcome: RefreshOutcome, until: number }>()

  constructor (options: SessionRefresherOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  async refresh (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): Promise<RefreshOutcome> {
    assertSessionAge(this.#options.store, request, reply, session, this.#options.maxSessionAge, this.#now() / 1000)
    const refreshToken = session.refreshToken
    if (refreshToken === undefined) throw new CognitoSessionExpiredError('The session has no refresh token: sign in again')
    let outcome: RefreshOutcome
    try {
      outcome = this.#remembered(refreshToken) ?? await this.#join(request, refreshToken, session)
    } catch (error) {
      if (error instanceof CognitoInvalidGrantError) {
        this.#options.store.clearSession(request, reply)
        throw new CognitoSessionExpiredError('The refresh token is revoked or expired: sign in again')
      }
      throw error
    }
    this.#options.store.writeSession(request, reply, outcome.session)
    return outcome
  }

  /** Forgets a remembered refresh (logout), so a copy of the old cookie cannot pick up its tokens. */
  forget (refreshToken: string): void {
    this.#done.delete(refreshToken)
  }

  #remembered (refreshToken: string): RefreshOutcome | undefined {
    const entry = this.#done.get(refreshToken)
    if (entry === undefined) return undefined
    if (entry.until > this.#now()) return entry.outcome
    this.#done.delete(refreshToken)
    return undefined
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
    const { client, verifier, requireIdToken, onRefreshed } = this.#options
    const tokens = await client.refresh(refreshToken)
    const verified = await verifyTokenSet(verifier, tokens, { requireIdToken, sub: session.sub })
    const next: CognitoSessionData = {
      ...session,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken ?? refreshToken,
      expiresAt: verified.access.exp
    }
    if (tokens.idToken !== undefined) next.idToken = tokens.idToken
    const outcome = { session: next, verified }
    if (onRefreshed !== undefined) await onRefreshed(request, outcome)
    this.#remember(refreshToken, outcome)
    return outcome
  }

  #remember (refreshToken: string, outcome: RefreshOutcome): void {
    if (this.#done.size >= MAX_REMEMBERED) {
      const now = this.#now()
      for (const [token, entry] of this.#done) if (entry.until <= now) this.#done.delete(token)
      // Still full: drop the oldest (Map keeps insertion order).
      if (this.#done.size >= MAX_REMEMBERED) this.#done.delete(this.#done.keys().next().value as string)
    }
    this.#done.set(refreshToken, { outcome, until: this.#now() + RESULT_REUSE_MS })
  }
}
