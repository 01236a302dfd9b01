import type { FastifyReply, FastifyRequest } from 'fastify'
import { authorizeUrl } from '../cognito/urls.js'
import type { SignInContext } from '../context.js'
import type { LoginTransaction } from '../session/login-transactions.js'
import { pkceChallenge, randomToken } from '../util/random.js'
import { safeReturnTo } from '../util/return-to.js'

/**
 * Starts an authorization-code + PKCE (S256) sign-in: a new login transaction in its encrypted cookie and a 302
 * to Cognito's /oauth2/authorize. `params` are allow-listed sign-in parameters (identity_provider, lang, ...)
 * over the plugin's `authorizationParams` defaults.
 */
export function startLogin (
  context: SignInContext,
  request: FastifyRequest,
  reply: FastifyReply,
  { returnTo, params = {} }: { returnTo?: unknown, params?: Record<string, string> } = {}
): FastifyReply {
  const { options } = context.signIn
  const transaction: LoginTransaction = {
    state: randomToken(),
    codeVerifier: randomToken(),
    createdAt: Math.floor(context.clock.seconds())
  }
  if (context.signIn.requireIdToken) transaction.nonce = randomToken()
  const safe = safeReturnTo(returnTo)
  if (safe !== undefined) transaction.returnTo = safe
  context.signIn.loginTransactions.add(request, reply, transaction)

  reply.header('cache-control', 'no-store')
  return reply.redirect(authorizeUrl({
    domain: options.domain,
    clientId: options.clientId,
    redirectUri: options.redirectUri,
    scopes: options.scopes,
    state: transaction.state,
    nonce: transaction.nonce,
    codeChallenge: pkceChallenge(transaction.codeVerifier),
    extra: { ...options.authorizationParams, ...params }
  }), 302)
}
