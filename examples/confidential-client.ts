// A confidential app client: the secret authenticates the token and revoke calls with HTTP Basic (PKCE is used too).
// Run: COGNITO_USER_POOL_ID=… COGNITO_CLIENT_ID=… COGNITO_CLIENT_SECRET=… COGNITO_DOMAIN=… APP_BASE_URL=https://app.example.com \
//      SESSION_SECRET=<32+ random characters> node --import tsx examples/confidential-client.ts
import Fastify from 'fastify'
import fastifyCognito from 'fastify-cognito'

const baseUrl = process.env.APP_BASE_URL ?? 'http://localhost:3000'
const app = Fastify({ logger: true })

await app.register(fastifyCognito, {
  userPoolId: process.env.COGNITO_USER_POOL_ID!,
  clientId: process.env.COGNITO_CLIENT_ID!,
  clientSecret: process.env.COGNITO_CLIENT_SECRET!, // keep it in the environment, never in code
  domain: process.env.COGNITO_DOMAIN!,
  redirectUri: `${baseUrl}/auth/login/redirect`,
  logoutUri: `${baseUrl}/`,
  // Two secrets rotate the cookie key: the first encrypts, both decrypt.
  sessionSecret: [process.env.SESSION_SECRET!, ...(process.env.OLD_SESSION_SECRET !== undefined ? [process.env.OLD_SESSION_SECRET] : [])],
  // The plugin's routes live under /auth: /auth/login, /auth/login/redirect, /auth/refresh, /auth/logout.
  prefix: '/auth',
  afterLoginRedirect: '/dashboard'
})

app.get('/dashboard', { preHandler: app.cognito.requireAuth() }, async (request, reply) => {
  return reply.type('text/html').send(`<p>Signed in (token valid until ${new Date(request.tokenPayload!.exp * 1000).toISOString()}).</p>
<form method="post" action="${app.cognito.logoutPath}"><button>Sign out</button></form>`)
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
