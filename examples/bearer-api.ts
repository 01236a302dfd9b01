// An API for other programs: clients send `Authorization: Bearer <Cognito access token>`; no browser, no cookies.
// Run: COGNITO_USER_POOL_ID=… COGNITO_CLIENT_ID=… COGNITO_DOMAIN=… SESSION_SECRET=… node --import tsx examples/bearer-api.ts
// Try: curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:3000/api/orders
import Fastify from 'fastify'
import fastifyCognito from 'fastify-cognito'

const app = Fastify({ logger: true })

await app.register(fastifyCognito, {
  userPoolId: process.env.COGNITO_USER_POOL_ID!,
  clientId: process.env.COGNITO_CLIENT_ID!,
  domain: process.env.COGNITO_DOMAIN!,
  // Required options even when only bearer tokens are used; the login routes then go unused.
  redirectUri: 'http://localhost:3000/login/redirect',
  sessionSecret: process.env.SESSION_SECRET!
})

// One guard for a whole encapsulated context: every route below needs a valid access token with orders/read.
await app.register(async (api) => {
  // No login redirect for an API: a missing or bad token is always 401 with WWW-Authenticate.
  api.addHook('preHandler', api.cognito.requireAuth({ scopes: ['orders/read'], redirectToLogin: false }))
  api.get('/orders', async (request) => ({ owner: request.user!.sub, orders: [] }))
  api.get('/whoami', async (request) => ({ sub: request.tokenPayload!.sub, clientId: request.tokenPayload!.client_id, scopes: request.user!.scopes }))
}, { prefix: '/api' })

// A token from elsewhere (a queue message, a WebSocket handshake) can be verified directly.
app.post('/api/verify', async (request) => {
  const { token } = request.body as { token: string }
  const claims = await app.cognito.verifyAccessToken(token)
  return { sub: claims.sub, expiresAt: claims.exp }
})

await app.listen({ host: '127.0.0.1', port: 3000 })
