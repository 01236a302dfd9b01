import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { buildApp, CLIENT_IDS, location, login, pluginOptions, REDIRECT_URI, startIdp } from '../helpers/app.js'

test('/login passes identity_provider, idp_identifier, lang, login_hint and prompt through to Cognito', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/login?identity_provider=Google&idp_identifier=example.com&lang=de&login_hint=alice%40example.com&prompt=login' })
  const authorize = new URL(location(response))
  await fetch(authorize, { redirect: 'manual' })
  assert.equal(idp.lastAuthorizeQuery?.identity_provider, 'Google')
  assert.equal(idp.lastAuthorizeQuery?.idp_identifier, 'example.com')
  assert.equal(idp.lastAuthorizeQuery?.lang, 'de')
  assert.equal(idp.lastAuthorizeQuery?.login_hint, 'alice@example.com')
  assert.equal(idp.lastAuthorizeQuery?.prompt, 'login')
})

test('/login drops every other parameter and malformed values of allowed ones', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({
    url: '/login?redirect_uri=https%3A%2F%2Fevil.example%2Fcb&client_id=other&scope=aws.cognito.signin.user.admin&response_type=token&code_challenge_method=plain&prompt=evil&lang=%3Cscript%3E&identity_provider=a%26b%3Dc'
  })
  const query = Object.fromEntries(new URL(location(response)).searchParams)
  assert.equal(query.redirect_uri, REDIRECT_URI)
  assert.equal(query.client_id, CLIENT_IDS.public)
  assert.equal(query.scope, 'openid email profile')
  assert.equal(query.response_type, 'code')
  assert.equal(query.code_challenge_method, 'S256')
  for (const name of ['prompt', 'lang', 'identity_provider']) assert.equal(name in query, false, name)
})

test('the authorizationParams option sets defaults that /login can override', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { authorizationParams: { identity_provider: 'COGNITO', lang: 'fr' } })
  const plain = new URL(location(await app.inject({ url: '/login' })))
  assert.equal(plain.searchParams.get('identity_provider'), 'COGNITO')
  assert.equal(plain.searchParams.get('lang'), 'fr')
  const overridden = new URL(location(await app.inject({ url: '/login?lang=es' })))
  assert.equal(overridden.searchParams.get('lang'), 'es')
})

test('authorizationParams are validated at register', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await assert.rejects(async () => {
    await app.register(fastifyCognito, pluginOptions(idp, 'public', { authorizationParams: { redirect_uri: 'x' } as never }))
    await app.ready()
  }, { code: 'FST_COGNITO_INVALID_OPTION', message: /authorizationParams\.redirect_uri/ })
})

test('step-up: requireAuth({ maxAge }) refuses an old sign-in with RFC 9470 insufficient_user_authentication', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/transfer', { preHandler: app.cognito.requireAuth({ maxAge: 300 }) }, async () => ({ ok: true }))
  const old = await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { auth_time: Math.floor(Date.now() / 1000) - 3600 } })
  const api = await app.inject({ url: '/transfer', headers: { authorization: `Bearer ${old}` } })
  assert.equal(api.statusCode, 401)
  assert.equal(api.json().code, 'FST_COGNITO_STEP_UP_REQUIRED')
  assert.equal(api.headers['www-authenticate'], 'Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age=300')
  const fresh = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  assert.equal((await app.inject({ url: '/transfer', headers: { authorization: `Bearer ${fresh}` } })).statusCode, 200)
  const missing = await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { auth_time: undefined } })
  assert.equal((await app.inject({ url: '/transfer', headers: { authorization: `Bearer ${missing}` } })).statusCode, 401, 'no auth_time: no proof of a recent sign-in')
})

test('step-up for a browser: an old session is sent to a login with prompt=login, and a new sign-in passes', async (t) => {
  let offset = 0
  const idp = await startIdp(t, { now: () => Date.now() + offset })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { autoRefresh: false }))
  app.get('/transfer', { preHandler: app.cognito.requireAuth({ maxAge: 300 }) }, async () => ({ ok: true }))
  offset = -1800 * 1000
  const { jar } = await login(app, idp)
  offset = 0
  const browser = await app.inject({ url: '/transfer', headers: { cookie: jar.header, accept: 'text/html' } })
  assert.equal(browser.statusCode, 302)
  assert.equal(browser.headers.location, '/login?returnTo=%2Ftransfer&prompt=login')
  const start = await app.inject({ url: browser.headers.location, headers: { cookie: jar.header } })
  assert.equal(new URL(location(start)).searchParams.get('prompt'), 'login')
  await login(app, idp, { jar, returnTo: '/transfer' })
  assert.equal((await app.inject({ url: '/transfer', headers: { cookie: jar.header } })).statusCode, 200)
})
