// An API for other programs: clients send `Authorization: Bearer <Cognito access token>`. No login page, no callback,
// no cookies, no session secret: the user pool and the app client(s) whose tokens it accepts are the whole setup.
// Run: COGNITO_USER_POOL_ID=… COGNITO_CLIENT_ID=web-client-id,mobile-client-id node --import tsx examples/bearer-api.ts
// Try: curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/api/orders
import Fastify from 'fastify'
import fastifyCognito from 'fastify-cognito'

const app = Fastify({ logger: true })

await app.register(fastifyCognito, {
  userPoolId: process.env.COGNITO_USER_POOL_ID!,
  // One app client, or several (a web and a mobile app): tokens of any of them pass the guards.
  clientId: (process.env.COGNITO_CLIENT_ID ?? '').split(',')
})

// One guard for a whole encapsulated context: every route below needs a valid access token with orders/read.
// A bearer-only registration never redirects: a missing or bad token is 401 with WWW-Authenticate.
await app.register(async (api) => {
  api.addHook('preHandler', api.cognito.requireAuth({ scopes: ['orders/read'] }))
  api.get('/orders', async (request) => ({ owner: request.user!.sub, machine: request.user!.isMachine, orders: [] }))
  api.get('/whoami', async (request) => ({ sub: request.user!.sub, clientId: request.user!.clientId, scopes: request.user!.scopes }))
}, { prefix: '/api' })

// Anyone may read the catalogue; a signed-in caller sees more.
app.get('/catalogue', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({
  items: request.user === null ? ['public'] : ['public', 'members-only']
}))

// A token from elsewhere (a queue message, a WebSocket handshake) can be verified directly.
app.post('/api/verify', async (request) => {
  const { token } = request.body as { token: string }
  const claims = await app.cognito.verifyAccessToken(token)
  return { sub: claims.sub, expiresAt: claims.exp }
})

await app.listen({ host: '127.0.0.1', port: 3000 })
