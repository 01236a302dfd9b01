import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { pickAuthorizationParams } from '../cognito/sign-in-params.js'
import type { SignInContext } from '../context.js'
import { startLogin } from '../flows/start-login.js'

/**
 * A sign-in must start on the host it ends on: the login transaction cookie is set for the host name of GET /login
 * and read back at the callback, on the redirect URI's host name. A /login reached under another name (`localhost`
 * against `127.0.0.1`, an alias) is sent to the same path and query on the redirect URI's origin first.
 * - The target is always the configured origin, never one taken from the request: no open redirect.
 * - The scheme is not compared (TLS often ends at a proxy that forwards plain HTTP), so this cannot loop.
 * - Nor is the port: cookies are not kept apart by port (RFC 6265 8.5), so a proxy's port costs no redirect.
 */
function redirectToCallbackHost (context: SignInContext, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
  const hostname = request.hostname.toLowerCase()
  const expected = context.signIn.callbackHostname
  if (hostname === expected) return undefined
  const query = request.query as Record<string, unknown>
  // A proxy that rewrites the Host header (without trustProxy) would send the redirect back here under the same
  // wrong name, forever: after one redirect the sign-in goes on where it is, and the log says why.
  if (query[REDIRECTED] !== undefined) {
    request.log.warn({ host: hostname.slice(0, 253), expected }, 'fastify-cognito: /login still arrives under another host name than the redirect URI after a redirect: a proxy rewrites the Host header (set trustProxy so that X-Forwarded-Host is used)')
    return undefined
  }
  const queryAt = request.url.indexOf('?')
  const search = queryAt === -1 ? `?${REDIRECTED}=1` : `${request.url.slice(queryAt)}&${REDIRECTED}=1`
  reply.header('cache-control', 'no-store')
  return reply.redirect(`${context.signIn.appOrigin}${context.paths.login}${search}`, 302)
}

/** Marks a /login that was already sent to the redirect URI's host once. */
const REDIRECTED = 'cognito_host_redirect'

/** GET /login[?returnTo=/path&identity_provider=…&lang=…&login_hint=…&prompt=…] */
export function registerLoginRoute (fastify: FastifyInstance, context: SignInContext): void {
  fastify.get('/login', async (request, reply) => {
    const elsewhere = redirectToCallbackHost(context, request, reply)
    if (elsewhere !== undefined) return elsewhere
    const query = request.query as Record<string, unknown>
    return startLogin(context, request, reply, { returnTo: query.returnTo, params: pickAuthorizationParams(query) })
  })
}
