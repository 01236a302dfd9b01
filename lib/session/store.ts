import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoSessionData } from './model.js'

/**
 * Where sessions live: the seam between the guards and flows (which only read, write and clear a request's
 * session) and the way it is kept. Today the encrypted cookie (cookie-store.ts); a server-side store plugs in here.
 *
 * - `readSession` is called several times per request: an implementation remembers its answer for the request.
 *   Anything it cannot decode or trust is no session (null), never an exception.
 * - The session it returns is frozen and may be shared with other requests: copy it to change it.
 * - `writeSession` and `clearSession` answer on `reply` (cookies) and make later reads of the same request see the
 *   new state.
 */
export interface SessionStore {
  readSession (request: FastifyRequest): CognitoSessionData | null
  writeSession (request: FastifyRequest, reply: FastifyReply, session: CognitoSessionData): void
  /** Ends the session: later reads of this request see none, and `hasEnded` holds for it from now on. */
  clearSession (request: FastifyRequest, reply: FastifyReply): void
  /** Whether this session was ended (signed out, expired, refused): a copy of it must not authenticate. */
  hasEnded (session: CognitoSessionData): boolean
}
