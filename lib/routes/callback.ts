import type { FastifyInstance } from 'fastify'
import type { SignInContext } from '../context.js'
import { completeLogin } from '../flows/complete-login.js'

/** The request URL without its query string, for log lines of routes whose query carries codes. */
function pathOnly (url: string): string {
  const index = url.indexOf('?')
  return index === -1 ? url : url.slice(0, index)
}

/** GET /login/redirect: Cognito's redirect back (see flows/complete-login.ts). */
export function registerCallbackRoute (fastify: FastifyInstance, context: SignInContext): void {
  fastify.get('/login/redirect', {
    // The query carries the authorization code: keep it out of every log line of this route.
    logSerializers: {
      req: (request) => ({ method: request.method, url: pathOnly(request.url), host: request.host, remoteAddress: request.ip })
    }
  }, async (request, reply) => await completeLogin(context, request, reply))
}
