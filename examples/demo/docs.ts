import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

/** Where the interactive API documentation is served. */
export const DOCS_PATH = '/docs'

/**
 * @fastify/swagger, registered before fastify-cognito so that the document has the plugin's routes too (guarded
 * routes are documented in either order). Only tagged routes are shown: the API below and the plugin's routes, not
 * the demo's HTML pages.
 */
export async function registerOpenApi (app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'fastify-cognito demo', version: '1.0.0', description: 'Click **Authorize**, sign in, then **Try it out** on a guarded route.' },
      tags: [{ name: 'Demo API', description: 'Guarded JSON routes' }]
    },
    hideUntagged: true
  })
}

/**
 * Swagger UI at /docs. Its Authorize button signs in with the authorization code flow and PKCE, as a public app
 * client: the client id is in the page, and no secret ever is. The app client must allow
 * `<app>/docs/static/oauth2-redirect.html` as a callback URL.
 */
export async function registerSwaggerUi (app: FastifyInstance, clientId: string, scopes: string[]): Promise<void> {
  await app.register(fastifySwaggerUi, {
    routePrefix: DOCS_PATH,
    initOAuth: { clientId, scopes, usePkceWithAuthorizationCodeGrant: true },
    uiConfig: { tryItOutEnabled: false, persistAuthorization: false }
  })
}

/** JSON routes to try from /docs: the guards document them (security, 401, 403) by themselves. */
export function registerApiRoutes (app: FastifyInstance): void {
  const tags = ['Demo API']
  const user = {
    type: 'object',
    properties: {
      username: { type: 'string' },
      groups: { type: 'array', items: { type: 'string' } },
      scopes: { type: 'array', items: { type: 'string' } },
      clientId: { type: 'string' }
    }
  }
  app.get('/api/me', {
    preHandler: app.cognito.requireAuth(),
    schema: { tags, summary: 'Who is signed in', response: { 200: user } }
  }, async (request) => request.user)
  app.get('/api/admin', {
    preHandler: app.cognito.requireAuth({ groups: ['admin'] }),
    schema: { tags, summary: 'Only for the group admin', response: { 200: { type: 'object', properties: { message: { type: 'string' } } } } }
  }, async (request) => ({ message: `Hello ${request.user?.username ?? ''}, admin` }))
}
