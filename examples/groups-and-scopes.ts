// Guards by Cognito group and by OAuth scope, and a custom claim typed through declaration merging.
// Run: COGNITO_USER_POOL_ID=… COGNITO_CLIENT_ID=… COGNITO_DOMAIN=… SESSION_SECRET=… node --import tsx examples/groups-and-scopes.ts
import Fastify from 'fastify'
import fastifyCognito, { CognitoForbiddenError } from 'fastify-cognito'

declare module 'fastify-cognito' {
  interface FastifyCognitoClaims {
    'custom:tenant'?: string
  }
}

const app = Fastify({ logger: true })

// A 403 that says which group or scope is missing. Branch on the class (or on error.code), not on messages.
// Set before the routes: a route keeps the error handler in force when it is added.
app.setErrorHandler(async (error, _request, reply) => {
  if (error instanceof CognitoForbiddenError) {
    return reply.code(403).send({ error: 'forbidden', missingGroups: error.missingGroups, missingScopes: error.missingScopes })
  }
  throw error
})

await app.register(fastifyCognito, {
  userPoolId: process.env.COGNITO_USER_POOL_ID!,
  clientId: process.env.COGNITO_CLIENT_ID!,
  domain: process.env.COGNITO_DOMAIN!,
  redirectUri: 'http://localhost:3000/login/redirect',
  sessionSecret: process.env.SESSION_SECRET!,
  // A resource server "orders" with the scope "read", enabled on the app client.
  scopes: ['openid', 'email', 'profile', 'orders/read']
})

// Every listed group is required...
app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async (request) => ({ admin: request.user!.username }))
// ...or any one of them.
app.get('/edit', { preHandler: app.cognito.requireAuth({ groups: ['admin', 'editor'], anyGroup: true }) }, async () => ({ edit: true }))
// Scopes come from the access token's `scope` claim.
app.get('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => [])
// Custom attributes are typed on request.user.claims.
app.get('/tenant', { preHandler: app.cognito.requireAuth() }, async (request) => ({ tenant: request.user!.claims['custom:tenant'] ?? null }))

await app.listen({ host: '127.0.0.1', port: 3000 })
