import type { FastifyInstance } from 'fastify'
import type { SignInContext } from '../context.js'
import { refreshNow } from '../flows/refresh-now.js'
import { assertSameOrigin } from './same-origin.js'

/** POST /refresh: the refresh-token grant (see flows/refresh-now.ts); cross-site requests are refused. */
export function registerRefreshRoute (fastify: FastifyInstance, context: SignInContext): void {
  fastify.post('/refresh', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    assertSameOrigin(request, context.signIn.appOrigin)
    return await refreshNow(context, request, reply)
  })
}
