import type { FastifyInstance } from 'fastify'
import { authorizeUrl } from '../cognito/urls.js'
import { safeReturnTo } from '../return-to.js'
import type { LoginTransaction } from '../session/store.js'
import { pkceChallenge, randomToken } from '../tokens/random.js'
import type { RouteContext } from './context.js'

/** GET /login[?returnTo=/path]: starts an authorization-code + PKCE (S256) login at Cognito's managed login. */
export function registerLoginRoute (fastify: FastifyInstance, context: RouteContext): void {
  const { options, store } = context
  const wantsIdToken = options.scopes.includes('openid')

  fastify.get('/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const transaction: LoginTransaction = {
      state: randomToken(),
      codeVerifier: randomToken(),
      createdAt: Math.floor(Date.now() / 1000)
    }
    if (wantsIdToken) transaction.nonce = randomToken()
    const returnTo = safeReturnTo(query.returnTo)
    if (returnTo !== undefined) transaction.returnTo = returnTo
    store.addLoginTransaction(request, reply, transaction)

    reply.header('cache-control', 'no-store')
    return reply.redirect(authorizeUrl({
      domain: options.domain,
      clientId: options.clientId,
      redirectUri: options.redirectUri,
      scopes: options.scopes,
      state: transaction.state,
      nonce: transaction.nonce,
      codeChallenge: pkceChallenge(transaction.codeVerifier)
    }), 302)
  })
}
