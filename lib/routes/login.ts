import type { FastifyInstance } from 'fastify'
import { pickAuthorizationParams } from '../cognito/sign-in-params.js'
import type { CognitoContext } from '../context.js'
import { startLogin } from '../flows/start-login.js'

/** GET /login[?returnTo=/path&identity_provider=…&lang=…&login_hint=…&prompt=…] */
export function registerLoginRoute (fastify: FastifyInstance, context: CognitoContext): void {
  fastify.get('/login', async (request, reply) => {
    const query = request.query as Record<string, unknown>
    return startLogin(context, request, reply, { returnTo: query.returnTo, params: pickAuthorizationParams(query) })
  })
}
