import type { FastifyReply, FastifyRequest } from 'fastify'
import { logoutUrl } from '../cognito/urls.js'
import type { SignInContext } from '../context.js'
import { endingSession } from '../authenticate.js'
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
  const ending = session === null ? null : await endingSession(context, session)
  if (options.onLogout !== undefined) await options.onLogout(request, ending?.user ?? null)
  store.clearSession(request, reply)
  loginTransactions.clear(request, reply)
  // A copy of the cookie (or its access token as a bearer token) replayed later in this process is refused, and so
  // is every access token of the same sign-in (by the verified `origin_jti`: a forged cookie revokes nothing else).
  if (session !== null) verifier.revokeAccessToken(session.accessToken, ending?.access.origin_jti)
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
