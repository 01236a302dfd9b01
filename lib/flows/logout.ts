import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import { logoutUrl } from '../cognito/urls.js'
import type { SignInContext } from '../context.js'
import { endingSession } from '../authenticate.js'
import { CognitoInvalidOptionError } from '../errors.js'
import { ServerSessionStore } from '../session/server-store.js'
import { revokeBestEffort } from './revoke.js'

/**
 * Ends the session: runs `onLogout`, revokes the refresh token (and with it every token issued from it), clears
 * every cookie of the plugin, and sends the browser to Cognito's /logout to end the managed-login session too. A
 * failed revocation at Cognito is logged and never blocks the logout. With a server-side store its access tokens are
 * refused on every instance, and then the session is deleted there (a store fault answers 503 and leaves the cookie:
 * the user may retry). `everywhere` ends every other session of the user too (all devices).
 */
export async function logout (context: SignInContext, request: FastifyRequest, reply: FastifyReply, everywhere = false): Promise<FastifyReply> {
  const { options, store, refresher, loginTransactions } = context.signIn
  const { verifier } = context
  if (everywhere && !(store instanceof ServerSessionStore)) {
    throw new CognitoInvalidOptionError('fastify-cognito: logoutEverywhere() needs a server-side session store (option "sessionStore")')
  }
  reply.header('cache-control', 'no-store')
  await store.loadSession(request)
  const session = store.readSession(request)
  const ending = session === null ? null : await endingSession(context, session)
  if (options.onLogout !== undefined) await options.onLogout(request, ending?.user ?? null)
  // Every other device first, while this session's tokens still verify everywhere: if the store fails on the way, the
  // user's retry (on any instance) finds this session and ends the rest.
  if (everywhere && store instanceof ServerSessionStore && ending !== null) await endUserSessions(context, store, ending.access.sub, request.log, session?.sid)
  // With a server-side store, the session's tokens are revoked before the session is deleted, the deletion last: a
  // store call that timed out may still be applied later, and a retry that then finds no session has nothing left
  // to revoke (from any instance: the session's access token, cached sessions, the refresh token at Cognito).
  if (store instanceof ServerSessionStore && ending !== null && session !== null) {
    // On every instance: only for tokens that verified (a forged session revokes nothing).
    const id = ending.access.origin_jti ?? ending.access.jti
    if (typeof id === 'string' && id !== '') await store.events.announceRevoked(id, ending.access.exp)
  }
  // A copy of the cookie (or its access token as a bearer token) replayed later in this process is refused, and so
  // is every access token of the same sign-in (by the verified `origin_jti`: a forged cookie revokes nothing else).
  if (session !== null) verifier.revokeAccessToken(session.accessToken, ending?.access.origin_jti)
  if (session !== null) refresher.forget(session.sid)
  if (session?.refreshToken !== undefined) {
    // A failure is logged and never blocks the logout: the cookies are cleared anyway.
    await revokeBestEffort(context, request.log, session.refreshToken)
  }
  await store.clearSession(request, reply)
  loginTransactions.clear(request, reply)
  if (session !== null) request.log.info({ sub: session.sub, everywhere }, 'fastify-cognito: signed out')
  const destination = options.logoutUri === undefined
    ? options.afterLoginRedirect
    : logoutUrl(options.domain, options.clientId, options.logoutUri)
  return reply.redirect(destination, 302)
}

/**
 * Ends every store session of a user (all devices; `app.cognito.endSessions(sub)`, `logoutEverywhere`): deleted
 * from the store and refused on every instance, their access tokens refused across the fleet, their refresh tokens
 * revoked at Cognito (best effort, logged). Resolves to the number of sessions ended.
 */
export async function endUserSessions (context: SignInContext, store: ServerSessionStore, sub: string, log: FastifyBaseLogger, except?: string): Promise<number> {
  const envelopes = await store.endUserSessions(sub, except)
  for (const envelope of envelopes) {
    if (envelope.revocationId !== undefined) await store.events.revoke(envelope.revocationId, envelope.expiresAt)
    await revokeBestEffort(context, log, envelope.refreshToken)
  }
  return envelopes.length
}
