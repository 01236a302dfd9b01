import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../lib/index.js'
import { bearer, CLIENT_IDS, location, login, pluginOptions, startIdp } from './helpers/app.js'
import { manualClock } from './helpers/clock.js'

// request.cognito: the flows bound to one request, as handlers call them.

test('request.cognito helpers: isAuthenticated, login with an identity provider, refresh and logout from handlers', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/status', async (request) => ({ authenticated: await request.cognito.isAuthenticated() }))
  app.get('/sign-in-with-google', async (request, reply) => request.cognito.login(reply, { returnTo: '/welcome', identityProvider: 'Google' }))
  app.post('/extend', async (request, reply) => await request.cognito.refresh(reply))
  app.post('/bye', async (request, reply) => await request.cognito.logout(reply))

  assert.deepEqual((await app.inject({ url: '/status' })).json(), { authenticated: false })
  const google = await app.inject({ url: '/sign-in-with-google' })
  assert.equal(google.statusCode, 302)
  assert.equal(new URL(location(google)).searchParams.get('identity_provider'), 'Google')
  assert.ok(google.cookies.some((cookie: { name: string }) => cookie.name === 'cognito_login'))

  const { jar } = await login(app, idp)
  assert.deepEqual((await app.inject({ url: '/status', headers: { cookie: jar.header } })).json(), { authenticated: true })
  const extended = await app.inject({ method: 'POST', url: '/extend', headers: { cookie: jar.header } })
  assert.equal(extended.statusCode, 200)
  assert.equal(typeof extended.json().expiresAt, 'number')
  jar.store(extended)
  const bye = await app.inject({ method: 'POST', url: '/bye', headers: { cookie: jar.header } })
  assert.equal(bye.statusCode, 302)
  jar.store(bye)
  assert.deepEqual((await app.inject({ url: '/status', headers: { cookie: jar.header } })).json(), { authenticated: false })
  assert.equal(idp.requests.revoke, 1)
})

test('request.cognito.login passes prompt and loginHint, and drops what is malformed', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { authorizationParams: { lang: 'fr' } }))
  app.get('/step-up', async (request, reply) => request.cognito.login(reply, { prompt: 'login', loginHint: 'alice@example.com', returnTo: '/transfer' }))
  app.get('/odd', async (request, reply) => request.cognito.login(reply, { prompt: 'evil' as never, loginHint: 'two words', identityProvider: 'a&b', returnTo: '//evil.com' }))
  app.get('/plain', async (request, reply) => request.cognito.login(reply))
  await app.ready()
  const stepUp = new URL(location(await app.inject({ url: '/step-up' }))).searchParams
  assert.equal(stepUp.get('prompt'), 'login')
  assert.equal(stepUp.get('login_hint'), 'alice@example.com')
  assert.equal(stepUp.get('lang'), 'fr', 'the configured defaults stay')
  const odd = new URL(location(await app.inject({ url: '/odd' }))).searchParams
  for (const name of ['prompt', 'login_hint', 'identity_provider']) assert.equal(odd.has(name), false, name)
  const plain = await app.inject({ url: '/plain' })
  assert.equal(plain.statusCode, 302)
  assert.equal(plain.headers['cache-control'], 'no-store')
  const { callback } = await login(app, idp, { returnTo: undefined })
  assert.equal(callback.headers.location, '/', 'no returnTo: afterLoginRedirect')
})

test('request.cognito.isAuthenticated: Bearer or session, sets nothing, and lets an outage through as an error', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { prefetchJwks: false, now: clock.now }))
  app.get('/status', async (request) => ({ authenticated: await request.cognito.isAuthenticated(), user: request.user, tokenPayload: request.tokenPayload }))
  await app.ready()
  app.log.level = 'silent'
  idp.setJwksAvailable(false)
  const down = await app.inject({ url: '/status', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })
  assert.equal(down.statusCode, 503, 'not "false": the app cannot tell')
  assert.equal(down.json().code, 'FST_COGNITO_IDP_UNAVAILABLE')
  idp.setJwksAvailable(true)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  clock.advance(1) // the key store tries again 1 s after a failed fetch
  assert.deepEqual((await app.inject({ url: '/status', headers: bearer(token) })).json(), { authenticated: true, user: null, tokenPayload: null })
  assert.deepEqual((await app.inject({ url: '/status', headers: bearer(`${token}x`) })).json(), { authenticated: false, user: null, tokenPayload: null })
  assert.deepEqual((await app.inject({ url: '/status', headers: { authorization: 'Bearer' } })).json(), { authenticated: false, user: null, tokenPayload: null })
})

test('request.cognito.sessionData: what onLogin kept, undefined without a session or when it kept nothing', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { onLogin: async (_request, { user }) => user.username === 'alice' ? { plan: 'gold' } : undefined }))
  app.get('/data', async (request) => ({ data: request.cognito.sessionData ?? 'none' }))
  await app.ready()
  assert.deepEqual((await app.inject({ url: '/data' })).json(), { data: 'none' })
  const alice = (await login(app, idp)).jar
  assert.deepEqual((await app.inject({ url: '/data', headers: { cookie: alice.header } })).json(), { data: { plan: 'gold' } })
  const bob = (await login(app, idp, { username: 'bob' })).jar
  assert.deepEqual((await app.inject({ url: '/data', headers: { cookie: bob.header } })).json(), { data: 'none' })
})

test('request.cognito.refresh and logout without a session', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.post('/extend', async (request, reply) => await request.cognito.refresh(reply))
  app.post('/bye', async (request, reply) => await request.cognito.logout(reply))
  const extend = await app.inject({ method: 'POST', url: '/extend' })
  assert.equal(extend.statusCode, 401)
  assert.equal(extend.json().code, 'FST_COGNITO_UNAUTHENTICATED')
  const bye = await app.inject({ method: 'POST', url: '/bye' })
  assert.equal(bye.statusCode, 302)
  assert.equal(idp.requests.revoke, 0)
})
