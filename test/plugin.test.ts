import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../lib/index.js'
import { APP_ORIGIN, bearer, buildApp, capturingLogger, CLIENT_IDS, login, pluginOptions, startIdp } from './helpers/app.js'
import { manualClock } from './helpers/clock.js'

test('the decorators: app.cognito with the guard factory, the verifiers and the route paths; request.user and tokenPayload null', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/plain', async (request) => ({ user: request.user, tokenPayload: request.tokenPayload, helpers: typeof request.cognito.isAuthenticated }))
  await app.ready()
  assert.equal(typeof app.cognito.requireAuth, 'function')
  assert.equal(typeof app.cognito.verifyAccessToken, 'function')
  assert.equal(typeof app.cognito.verifyIdToken, 'function')
  assert.deepEqual([app.cognito.loginPath, app.cognito.logoutPath, app.cognito.refreshPath], ['/login', '/logout', '/refresh'])
  assert.deepEqual((await app.inject({ url: '/plain' })).json(), { user: null, tokenPayload: null, helpers: 'function' })
})

test('the routes: GET /login, GET /login/redirect, POST /refresh, GET and POST /logout, under the prefix', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { prefix: '/auth', redirectUri: `${APP_ORIGIN}/auth/login/redirect` })
  assert.deepEqual([app.cognito.loginPath, app.cognito.logoutPath, app.cognito.refreshPath], ['/auth/login', '/auth/logout', '/auth/refresh'])
  for (const [method, url] of [['GET', '/auth/login'], ['GET', '/auth/login/redirect'], ['POST', '/auth/refresh'], ['GET', '/auth/logout'], ['POST', '/auth/logout']] as const) {
    assert.ok(app.hasRoute({ method, url }), `${method} ${url}`)
  }
  assert.equal(app.hasRoute({ method: 'GET', url: '/refresh' }), false)
  assert.equal(app.hasRoute({ method: 'GET', url: '/auth/refresh' }), false, 'refresh is POST only')
})

test('fastify-plugin: named fastify-cognito; the decorators belong to the context that registers it', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  let inner: string | undefined
  let innerHasPlugin = false
  await app.register(async (scope) => {
    await scope.register(fastifyCognito, pluginOptions(idp, 'public'))
    inner = scope.cognito.loginPath
    innerHasPlugin = scope.hasPlugin('fastify-cognito')
  })
  await app.ready()
  assert.equal(inner, '/login')
  assert.equal(innerHasPlugin, true)
  assert.equal(app.hasDecorator('cognito'), false, 'an encapsulating scope keeps it to itself (two registrations side by side)')

  const root = Fastify()
  t.after(async () => { await root.close() })
  await root.register(fastifyCognito, pluginOptions(idp, 'public'))
  let child: string | undefined
  await root.register(async (scope) => { child = scope.cognito.loginPath })
  await root.ready()
  assert.equal(root.hasPlugin('fastify-cognito'), true)
  assert.equal(child, '/login', 'registered at the root, every scope of the app has it')
})

test('invalid options fail the registration with a typed error naming the option', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await assert.rejects(async () => {
    await app.register(fastifyCognito, pluginOptions(idp, 'public', { sessionSecret: 'short' }))
    await app.ready()
  }, { code: 'FST_COGNITO_INVALID_OPTION', message: /"sessionSecret"/ })
})

test('the JWKS is fetched once at start (prefetchJwks), or at first use when it is off', async (t) => {
  const idp = await startIdp(t)
  await buildApp(t, idp)
  assert.equal(idp.requests.jwks, 1)
  const lazy = await buildApp(t, idp, 'public', { prefetchJwks: false })
  assert.equal(idp.requests.jwks, 1)
  assert.equal((await lazy.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })).statusCode, 200)
  assert.equal(idp.requests.jwks, 2)
})

test('a failed prefetch is a warning with its code, and the app starts', async (t) => {
  const idp = await startIdp(t)
  idp.setJwksAvailable(false)
  const { logger, lines } = capturingLogger('warn')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  await app.ready()
  const warning = lines.map((line) => JSON.parse(line) as { level: number, msg: string, code?: string }).find((line) => line.msg === 'fastify-cognito: could not prefetch the JWKS')
  assert.deepEqual([warning?.level, warning?.code], [40, 'FST_COGNITO_IDP_UNAVAILABLE'])
})

test('app.cognito.verifyIdToken checks the ID token of this app client, and its nonce when given', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintIdToken('alice', CLIENT_IDS.public, { nonce: 'n-1' })
  assert.equal((await app.cognito.verifyIdToken(token))['cognito:username'], 'alice')
  assert.equal((await app.cognito.verifyIdToken(token, { nonce: 'n-1' })).nonce, 'n-1')
  await assert.rejects(app.cognito.verifyIdToken(token, { nonce: 'n-2' }), { code: 'FST_COGNITO_INVALID_TOKEN', message: 'Token nonce does not match the login' })
  await assert.rejects(app.cognito.verifyIdToken(await idp.mintAccessToken('alice', CLIENT_IDS.public)), { message: 'Token is not an ID token' })
})

test('the plugin\'s routes accept an empty HTML form post; the app\'s own routes keep Fastify\'s 415', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  app.log.level = 'silent'
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: form, payload: '' })).statusCode, 302)
  const tooLarge = await app.inject({ method: 'POST', url: '/logout', headers: form, payload: `a=${'x'.repeat(5000)}` })
  assert.equal(tooLarge.statusCode, 413, 'the plugin\'s parser reads at most 4 KB')
  const own = Fastify()
  t.after(async () => { await own.close() })
  await own.register(fastifyCognito, pluginOptions(idp, 'public'))
  own.post('/app-form', async () => ({ ok: true }))
  assert.equal((await own.inject({ method: 'POST', url: '/app-form', headers: form, payload: 'a=b' })).statusCode, 415, 'nothing leaks out of the plugin\'s scope')
})

test('an app\'s own form parser is kept for the plugin\'s routes too', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  let parsed = 0
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => { parsed++; done(null, Object.fromEntries(new URLSearchParams(body as string))) })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.post('/app-form', async (request) => request.body)
  assert.deepEqual((await app.inject({ method: 'POST', url: '/app-form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })).json(), { a: 'b' })
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'c=d' })).statusCode, 302)
  assert.equal(parsed, 2)
})

test('the now option is the one clock: token expiry, session age and login times all follow it', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = await buildApp(t, idp, 'public', { now: clock.now, maxSessionAge: 7200, autoRefresh: false })
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public, { expiresInSeconds: 60 })
  const { jar } = await login(app, idp)
  assert.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  clock.advance(60 + 5)
  assert.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_COGNITO_TOKEN_EXPIRED', 'no wait: the plugin\'s clock moved')
  clock.advance(7200 - 65)
  const old = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(old.json().code, 'FST_COGNITO_SESSION_EXPIRED', 'maxSessionAge after the sign-in')
  clock.advance(60)
  const sealedLongAgo = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(sealedLongAgo.json().code, 'FST_COGNITO_UNAUTHENTICATED', 'a minute later the cookie itself has expired: no session at all')
})

test('closing the app closes the plugin (its HTTP client) without waiting on Cognito', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  await app.ready()
  const started = Date.now()
  await app.close()
  assert.ok(Date.now() - started < 1000)
  assert.equal(idp.requests.jwks, 1)
})
