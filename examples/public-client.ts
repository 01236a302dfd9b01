// A public app client (no secret): the plugin signs users in with the authorization code and PKCE alone.
// Run: COGNITO_USER_POOL_ID=… COGNITO_CLIENT_ID=… COGNITO_DOMAIN=https://….auth.<region>.amazoncognito.com \
//      SESSION_SECRET=<32+ random characters> node --import tsx examples/public-client.ts
import Fastify from 'fastify'
import fastifyCognito from 'fastify-cognito'

const app = Fastify({ logger: true })

await app.register(fastifyCognito, {
  userPoolId: process.env.COGNITO_USER_POOL_ID!,
  clientId: process.env.COGNITO_CLIENT_ID!,
  domain: process.env.COGNITO_DOMAIN!,
  redirectUri: 'http://localhost:3000/login/redirect',
  logoutUri: 'http://localhost:3000/',
  sessionSecret: process.env.SESSION_SECRET!
})

app.get('/', async () => ({ login: app.cognito.loginPath, me: '/me', logout: app.cognito.logoutPath }))

// A browser without a session is sent to /login?returnTo=%2Fme and comes back here signed in.
app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({
  username: request.user!.username,
  email: request.user!.email,
  groups: request.user!.groups
}))

await app.listen({ host: '127.0.0.1', port: 3000 })
