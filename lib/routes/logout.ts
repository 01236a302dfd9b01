import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { SignInContext } from '../context.js'
import { logout } from '../flows/logout.js'
import { assertSameOrigin } from './same-origin.js'

/**
 * GET and POST /logout (see flows/logout.ts). Both refuse requests another site sends: a cross-site link or
 * top-level navigation would otherwise sign the user out and revoke the refresh token. Same-origin links and typed
 * URLs (`Sec-Fetch-Site: none`) keep working.
 */
export function registerLogoutRoute (fastify: FastifyInstance, context: SignInContext): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    assertSameOrigin(request, context.signIn.appOrigin)
    return await logout(context, request, reply)
  }
  fastify.get('/logout', handler)
  fastify.post('/logout', handler)
}
