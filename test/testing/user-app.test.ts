// Written the way a user tests their own app: only the public entry points, resolved by package name (dist/).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from 'fastify-cognito'
import { createTokenIssuer, loginAs, mintTokens, startLocalCognito } from 'fastify-cognito/testing'

// The user's app: in a real project this function lives in src/app.ts.
async function buildApp (cognito: FastifyCognitoOptions): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(fastifyCognito, cognito)
  app.get('/api/profile', { preHandler: app.cognito.requireAuth() }, async (request) => ({ name: request.user?.username }))
  app.get('/api/reports', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async () => ({ reports: [] }))
  return app
}

test('my API answers a signed-in admin and refuses others', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await buildApp(issuer.pluginOptions())
  t.after(() => app.close())

  const admin = issuer.mintAccessToken({}, { username: 'alice' })
  const profile = await app.inject({ url: '/api/profile', headers: { authorization: `Bearer ${admin}` } })
  assert.deepEqual(profile.json(), { name: 'alice' })
  assert.equal((await app.inject({ url: '/api/reports', headers: { authorization: `Bearer ${admin}` } })).statusCode, 200)

  const user = issuer.mintAccessToken({}, { username: 'bob' })
  assert.equal((await app.inject({ url: '/api/reports', headers: { authorization: `Bearer ${user}` } })).statusCode, 403)
  const expired = issuer.mintAccessToken({}, { expiresInSeconds: -60 }) // past the 5 s clockTolerance
  assert.equal((await app.inject({ url: '/api/profile', headers: { authorization: `Bearer ${expired}` } })).statusCode, 401)
  assert.equal((await app.inject({ url: '/api/profile' })).statusCode, 401)
})

test('a one-off token with the claims my route needs', async (t) => {
  const { accessToken, issuer } = await mintTokens({ 'cognito:groups': ['admin'] }, { username: 'bob' })
  const app = await buildApp(issuer.pluginOptions())
  t.after(() => app.close())
  const reports = await app.inject({ url: '/api/reports', headers: { authorization: `Bearer ${accessToken}` } })
  assert.equal(reports.statusCode, 200)
})

test('my pages for a browser signed in through the local Cognito', async (t) => {
  const idp = await startLocalCognito({
    users: [{ username: 'dana', password: 'dana-password-1', email: 'dana@example.com', groups: ['admin'] }],
    clients: [{ clientId: 'my-app', callbackUrls: ['http://localhost:3000/login/redirect'] }]
  })
  t.after(() => idp.close())
  const app = await buildApp({
    userPoolId: idp.userPoolId,
    clientId: 'my-app',
    domain: idp.domain,
    issuer: idp.issuer,
    redirectUri: 'http://localhost:3000/login/redirect',
    sessionSecret: 'a-test-session-secret-of-at-least-32-chars'
  })
  t.after(() => app.close())

  const cookie = await loginAs(app, 'dana')
  const profile = await app.inject({ url: '/api/profile', headers: { cookie } })
  assert.deepEqual(profile.json(), { name: 'dana' })
  assert.equal((await app.inject({ url: '/api/reports', headers: { cookie } })).statusCode, 200)
})
