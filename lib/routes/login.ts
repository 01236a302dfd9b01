import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { pickAuthorizationParams } from '../cognito/sign-in-params.js'
import type { CognitoContext } from '../context.js'
import { startLogin } from '../flows/start-login.js'

/**
 * A sign-in must start on the host it ends on: the login transaction cookie is set for the host name of GET /login
 * and read back at the callback, on the redirect URI's host name. A /login reached under another name (`localhost`
 * against `127.0.0.1`, an alias) is sent to the same path and query on the redirect URI's origin first.
 * - The target is always the configured origin, never one taken from the request: no open redirect.
 * - The scheme is not compared (TLS often ends at a proxy that forwards plain HTTP), so this cannot loop.
 * - Nor is the port: cookies are not kept apart by port (RFC 6265 8.5), so a proxy's port costs no redirect.
 */
function redirectToCallbackHost (context: CognitoContext, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  if (request.hostname.toLowerCase() === context.callbackHostname) return undefined
  const queryAt = request.url.indexOf('?')
  const search = queryAt === -1 ? '' : request.url.slice(queryAt)
  reply.header('cache-control', 'no-store')
  return reply.redirect(`${context.appOrigin}${context.paths.login}${search}`, 302)
}

/** GET /login[?returnTo=/path&identity_provider=…&lang=…&login_hint=…&prompt=…] */
export function registerLoginRoute (fastify: FastifyInstance, context: CognitoContext): void {
  fastify.get('/login', async (request, reply) => {
    const elsewhere = redirectToCallbackHost(context, request, reply)
    if (elsewhere !== undefined) return elsewhere
    const query = request.query as Record<string, unknown>
    return startLogin(context, request, reply, { returnTo: query.returnTo, params: pickAuthorizationParams(query) })
  })
}
