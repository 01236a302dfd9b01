import type { FastifyInstance } from 'fastify'
import { CognitoUnauthenticatedError } from '../errors.js'
import { assertSameOrigin, type RouteContext } from './context.js'

/**
 * POST /refresh: the refresh-token grant. Keeps the old refresh token when Cognito returns none (rotation off).
 * `invalid_grant` ends the session; a network fault does not (the user may retry).
 */
export function registerRefreshRoute (fastify: FastifyInstance, context: RouteContext): void {
  const { store, refresher, appOrigin } = context

  fastify.post('/refresh', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    assertSameOrigin(request, appOrigin)
    const session = store.readSession(request)
    if (session === null) throw new CognitoUnauthenticatedError()
    const { verified } = await refresher.refresh(request, reply, session)
    return { expiresAt: verified.access.exp }
  })
}
