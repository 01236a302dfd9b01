import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authorizeUrl } from '../cognito/urls.js'
import { pickAuthorizationParams } from '../cognito/sign-in-params.js'
import { safeReturnTo } from '../return-to.js'
import type { LoginTransaction } from '../session/store.js'
import { pkceChallenge, randomToken } from '../tokens/random.js'
import type { RouteContext } from './context.js'

/**
 * Starts an authorization-code + PKCE (S256) sign-in: a new login transaction in its encrypted cookie and a 302
 * to Cognito's /oauth2/authorize. `params` are allow-listed sign-in parameters (identity_provider, lang, ...)
 * over the plugin's `authorizationParams` defaults.
 */
export function startLogin (
  context: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  { returnTo, params = {} }: { returnTo?: unknown, params?: Record<string, string> } = {}
): FastifyReply {
  const { options, store } = context
  const transaction: LoginTransaction = {
    state: randomToken(),
    codeVerifier: randomToken(),
    createdAt: Math.floor(Date.now() / 1000)
  }
  if (options.scopes.includes('openid')) transaction.nonce = randomToken()
  const safe = safeReturnTo(returnTo)
  if (safe !== undefined) transaction.returnTo = safe
  store.addLoginTransaction(request, reply, transaction)

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

/** GET /login[?returnTo=/path&identity_provider=…&lang=…&login_hint=…&prompt=…] */
export function registerLoginRoute (fastify: FastifyInstance, context: RouteContext): void {
  fastify.get('/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>
    return startLogin(context, request, reply, { returnTo: query.returnTo, params: pickAuthorizationParams(query) })
  })
}
