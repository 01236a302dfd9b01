import type { FastifyReply, FastifyRequest } from 'fastify'
import { logoutUrl } from '../cognito/urls.js'
import type { SignInContext } from '../context.js'
import { endingSessionUser } from '../authenticate.js'
import { revokeBestEffort } from './revoke.js'

/**
 * Ends the session: runs `onLogout`, revokes the refresh token (and with it every token issued from it), clears
 * every cookie of the plugin, and sends the browser to Cognito's /logout to end the managed-login session too. A
 * failed revocation is logged and never blocks the logout.
 */
export async function logout (context: SignInContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { options, store, refresher, loginTransactions } = context.signIn
  const { verifier } = context
  reply.header('cache-control', 'no-store')
  const session = store.readSession(request)
  if (options.onLogout !== undefined) await options.onLogout(request, session === null ? null : await endingSessionUser(context, session))
  store.clearSession(request, reply)
  loginTransactions.clear(request, reply)
  // A copy of the cookie (or its access token as a bearer token) replayed later in this process is refused.
  if (session !== null) verifier.revokeAccessToken(session.accessToken)
  if (session !== null) refresher.forget(session.sid)
  if (session?.refreshToken !== undefined) {
    // A failure is logged and never blocks the logout: the cookies are cleared anyway.
    await revokeBestEffort(context, request, session.refreshToken)
  }
  if (session !== null) request.log.info({ sub: session.sub }, 'fastify-cognito: signed out')
  const destination = options.logoutUri === undefined
    ? options.afterLoginRedirect
    : logoutUrl(options.domain, options.clientId, options.logoutUri)
  return reply.redirect(destination, 302)
}
