import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'
import { startLocalCognito, type LocalCognito, type LocalCognitoOptions } from '../../lib/testing/index.js'

/** App clients of the API tests' pool: two a user signs in with (web, mobile), one the API does not accept, one machine. */
export const WEB = 'web-client'
export const MOBILE = 'mobile-client'
export const OTHER = 'other-client'
export const MACHINE = 'reports-service'
export const MACHINE_SECRET = 'reports-service-secret-0123456789'

/** A local Cognito with the `orders` resource server, three user clients and one machine client, closed after the test. */
export async function startApiIdp (t: TestContext, overrides: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const callbackUrls = ['http://localhost:3000/login/redirect']
  const idp = await startLocalCognito({
    resourceServers: [{ identifier: 'orders', scopes: ['read', 'write'] }],
    users: [
      { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', groups: ['admin'] },
      { username: 'bob', password: 'bob-password-1' }
    ],
    clients: [
      { clientId: WEB, callbackUrls },
      { clientId: MOBILE, callbackUrls },
      { clientId: OTHER, callbackUrls },
      { clientId: MACHINE, clientSecret: MACHINE_SECRET, callbackUrls: [], allowedOAuthFlows: ['client_credentials'], allowedScopes: ['orders/read'] }
    ],
    ...overrides
  })
  t.after(async () => { await idp.close() })
  return idp
}

/** An app with the plugin and whatever routes `routes` adds, ready, closed after the test. */
export async function apiApp (t: TestContext, options: FastifyCognitoOptions, routes: (app: FastifyInstance) => void = () => {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ user: request.user }))
  routes(app)
  await app.ready()
  return app
}

export function bearer (token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
