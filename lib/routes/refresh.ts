import type { FastifyInstance } from 'fastify'
import { CognitoInvalidGrantError, CognitoSessionExpiredError, CognitoUnauthenticatedError } from '../errors.js'
import { verifyTokenSet } from '../tokens/token-set.js'
import { assertSameOrigin, type RouteContext } from './context.js'

/**
 * POST /refresh: the refresh-token grant. Keeps the old refresh token when Cognito returns none (rotation off).
 * `invalid_grant` ends the session; a network fault does not (the user may retry).
 */
export function registerRefreshRoute (fastify: FastifyInstance, context: RouteContext): void {
  const { options, store, client, verifier, appOrigin } = context
  const requireIdToken = options.scopes.includes('openid')

  fastify.post('/refresh', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    assertSameOrigin(request, appOrigin)
    const session = store.readSession(request)
    if (session === null) throw new CognitoUnauthenticatedError()
    if (session.refreshToken === undefined) throw new CognitoSessionExpiredError('The session has no refresh token: sign in again')

    let tokens
    try {
      tokens = await client.refresh(session.refreshToken)
    } catch (error) {
      if (error instanceof CognitoInvalidGrantError) {
        store.clearSession(request, reply)
        throw new CognitoSessionExpiredError('The refresh token is revoked or expired: sign in again')
      }
      throw error
    }
    const { access } = await verifyTokenSet(verifier, tokens, { requireIdToken, sub: session.sub })
    store.writeSession(request, reply, {
      ...session,
      accessToken: tokens.accessToken,
      ...(tokens.idToken === undefined ? {} : { idToken: tokens.idToken }),
      refreshToken: tokens.refreshToken ?? session.refreshToken,
      expiresAt: access.exp
    })
    return { expiresAt: access.exp }
  })
}
