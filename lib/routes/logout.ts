import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { logoutUrl } from '../cognito/urls.js'
import { CognitoError } from '../errors.js'
import { assertSameOrigin, type RouteContext } from './context.js'

/**
 * GET and POST /logout: revokes the refresh token (and with it every token issued from it), clears every cookie
 * of the plugin, and sends the browser to Cognito's /logout to end the managed-login session too. A failed
 * revocation is logged and never blocks the logout.
 */
export function registerLogoutRoute (fastify: FastifyInstance, context: RouteContext): void {
  const { options, store, client, appOrigin } = context
  const destination = options.logoutUri === undefined
    ? options.afterLoginRedirect
    : logoutUrl(options.domain, options.clientId, options.logoutUri)

  async function logout (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    reply.header('cache-control', 'no-store')
    const session = store.readSession(request)
    store.clearSession(request, reply)
    store.clearLoginTransactions(request, reply)
    if (session?.refreshToken !== undefined) {
      try {
        await client.revoke(session.refreshToken)
      } catch (error) {
        const code = error instanceof CognitoError ? error.code : 'unknown'
        request.log.warn({ code }, 'fastify-cognito: revoking the refresh token failed; the session cookies are cleared anyway')
      }
    }
    if (session !== null) request.log.info({ sub: session.sub }, 'fastify-cognito: signed out')
    return reply.redirect(destination, 302)
  }

  fastify.get('/logout', logout)
  fastify.post('/logout', async (request, reply) => {
    assertSameOrigin(request, appOrigin)
    return await logout(request, reply)
  })
}
