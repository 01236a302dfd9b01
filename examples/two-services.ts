// Two services, one calling the other with a machine-to-machine token (Cognito's client credentials grant).
// - orders: an API that accepts user tokens of the web client and machine tokens of the reports service;
// - reports: a job that asks Cognito for a token (cached, single flight) and calls orders with it.
// Runs as is against the bundled local Cognito: node --import tsx examples/two-services.ts
// Against a real user pool: a resource server `orders` with the scope `read`, an app client for the reports service
// with a secret and only the client credentials grant, and the pool's domain.
import Fastify from 'fastify'
import fastifyCognito from 'fastify-cognito'
import { startLocalCognito } from 'fastify-cognito/testing'

const cognito = await startLocalCognito({
  resourceServers: [{ identifier: 'orders', scopes: ['read', 'write'] }],
  clients: [
    { clientId: 'web', callbackUrls: ['http://127.0.0.1:3000/login/redirect'] },
    { clientId: 'reports', clientSecret: 'reports-secret-0123456789', callbackUrls: [], allowedOAuthFlows: ['client_credentials'], allowedScopes: ['orders/read'] }
  ]
})

// The orders API: bearer-only, two accepted app clients.
const orders = Fastify()
await orders.register(fastifyCognito, { userPoolId: cognito.userPoolId, clientId: ['web', 'reports'], issuer: cognito.issuer })
orders.get('/orders', { preHandler: orders.cognito.requireAuth({ scopes: ['orders/read'] }) }, async (request) => ({
  caller: request.user!.isMachine ? `service ${request.user!.clientId}` : `user ${request.user!.username}`,
  orders: [{ id: 1, total: 42 }]
}))
const ordersUrl = await orders.listen({ host: '127.0.0.1', port: 0 })

// The reports service: its own registration (bearer-only too), which gives it clientCredentials().
const reports = Fastify()
await reports.register(fastifyCognito, { userPoolId: cognito.userPoolId, clientId: 'web', issuer: cognito.issuer })
const ordersToken = reports.cognito.clientCredentials({
  clientId: 'reports',
  clientSecret: 'reports-secret-0123456789',
  scopes: ['orders/read'],
  domain: cognito.domain
})
reports.get('/report', async () => {
  // Cached until shortly before it expires: asking on every request costs no token call.
  const response = await fetch(`${ordersUrl}/orders`, { headers: { authorization: `Bearer ${await ordersToken.getAccessToken()}` } })
  return { status: response.status, body: await response.json() }
})
await reports.ready()

const first = await reports.inject({ url: '/report' })
const second = await reports.inject({ url: '/report' })
console.log(JSON.stringify({ first: first.json(), second: second.json(), tokenCalls: cognito.requests.tokenClientCredentials }))

await reports.close()
await orders.close()
await cognito.close()
