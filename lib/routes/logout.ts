import type { FastifyInstance } from 'fastify'
import type { CognitoContext } from '../context.js'
import { logout } from '../flows/logout.js'
import { assertSameOrigin } from './same-origin.js'

/** GET and POST /logout (see flows/logout.ts). POST refuses cross-site requests; GET stays for plain links. */
export function registerLogoutRoute (fastify: FastifyInstance, context: CognitoContext): void {
  fastify.get('/logout', async (request, reply) => await logout(context, request, reply))
  fastify.post('/logout', async (request, reply) => {
    assertSameOrigin(request, context.appOrigin)
    return await logout(context, request, reply)
  })
}
