import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoSessionData, RefreshOutcome } from './model.js'

/**
 * Where sessions live: the seam between the guards and flows (which only read, write and clear a request's
 * session) and the way it is kept. The encrypted cookie (cookie-store.ts, the default) or a server-side store
 * (server-store.ts, option `sessionStore`).
 *
 * - `loadSession` comes first on every path that reads the session: undefined when the session is known without
 *   waiting (the cookie store always; the server store on a cache hit), else a promise that rejects with
 *   CognitoSessionStoreUnavailableError when the store cannot say. Then `readSession` is synchronous.
 * - `readSession` is called several times per request: an implementation remembers its answer for the request.
 *   Anything it cannot decode or trust is no session (null), never an exception.
 * - The session it returns is frozen and may be shared with other requests: copy it to change it.
 * - `writeSession` (a sign-in; a refresh with the cookie store) and `clearSession` answer on `reply` (cookies) and
 *   make later reads of the same request see the new state. A promise they return rejects when the store failed;
 *   the cookie is then left as it was.
 */
export interface SessionStore {
  loadSession (request: FastifyRequest): Promise<void> | undefined
  readSession (request: FastifyRequest): CognitoSessionData | null
  writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): void | Promise<void>
  /** Ends the session: later reads of this request see none, and `hasEnded` holds for it from now on. */
  clearSession (request: FastifyRequest, reply: FastifyReply): void | Promise<void>
  /** Whether this session was ended (signed out, expired, refused): a copy of it must not authenticate. */
  hasEnded (session: CognitoSessionData): boolean
  /**
   * A store shared by several instances refreshes once for all of them: it runs `refresh` (which calls Cognito)
   * under its lock, or adopts what another instance stored meanwhile, and stores the result itself. Absent: the
   * refresher refreshes in this process and writes the result with `writeSession`.
   */
  readonly shareRefresh?: (request: FastifyRequest, session: CognitoSessionData, refresh: (current: CognitoSessionData) => Promise<RefreshOutcome>) => Promise<CognitoSessionData | RefreshOutcome>
  /**
   * Throws CognitoSessionStoreUnavailableError while this instance has not loaded the fleet's list of signed-out
   * tokens (unless the app chose to fail open). Absent for a store that keeps no such list.
   */
  readonly assertRevocationsKnown?: () => void
}
