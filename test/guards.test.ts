import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../lib/index.js'
import { buildApp, CLIENT_IDS, login, pluginOptions, startIdp } from './helpers/app.js'

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

test('no credentials: 401 with WWW-Authenticate and a JSON error for API calls', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me', headers: { accept: 'application/json' } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.headers['www-authenticate'], 'Bearer')
  assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED')
})

test('no credentials: a browser navigation is sent to the login route with returnTo', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me?tab=2', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, `/login?returnTo=${encodeURIComponent('/me?tab=2')}`)
})

test('a non-GET or a JSON-preferring request is never redirected', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  app.log.level = 'silent'
  const json = await app.inject({ url: '/me', headers: { accept: 'application/json, text/html;q=0.5' } })
  assert.equal(json.statusCode, 401)
  const any = await app.inject({ url: '/me', headers: { accept: '*/*' } })
  assert.equal(any.statusCode, 401)
})

test('Bearer access token: authenticated from the header, user built from access-token claims', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const response = await app.inject({ url: '/me', headers: bearer(token) })
  assert.equal(response.statusCode, 200)
  const { user, tokenPayload } = response.json()
  assert.equal(user.username, 'alice')
  assert.deepEqual(user.groups, ['admin', 'editor'])
  assert.equal(user.claims.token_use, 'access')
  assert.equal(tokenPayload.client_id, CLIENT_IDS.public)
})

test('app.cognito.verifyAccessToken resolves to claims or rejects typed', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const claims = await app.cognito.verifyAccessToken(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.equal(claims.username, 'bob')
  await assert.rejects(app.cognito.verifyAccessToken('nope'), { code: 'FST_COGNITO_INVALID_TOKEN', statusCode: 401 })
})

test('request.user and request.tokenPayload are null where no guard ran', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const response = await app.inject({ url: '/public', headers: bearer(token) })
  assert.deepEqual(response.json(), { user: null, tokenPayload: null })
})

test('groups: all required by default; anyGroup accepts one of them; a user without groups has []', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const alice = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public))
  const bob = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.equal((await app.inject({ url: '/admin', headers: alice })).statusCode, 200)
  assert.equal((await app.inject({ url: '/edit', headers: alice })).statusCode, 200)
  const bobAdmin = await app.inject({ url: '/admin', headers: { ...bob, accept: 'text/html' } })
  assert.equal(bobAdmin.statusCode, 403, 'authenticated but not allowed: 403, never a login redirect')
  assert.equal(bobAdmin.json().code, 'FST_COGNITO_FORBIDDEN')
  assert.equal((await app.inject({ url: '/edit', headers: bob })).statusCode, 403)
  assert.deepEqual((await app.inject({ url: '/me', headers: bob })).json().user.groups, [])

  const editorOnly = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { 'cognito:groups': ['editor'] } }))
  assert.equal((await app.inject({ url: '/admin', headers: editorOnly })).statusCode, 403, 'all groups are required')
  const publisher = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { 'cognito:groups': ['publisher'] } }))
  assert.equal((await app.inject({ url: '/edit', headers: publisher })).statusCode, 200, 'any one group is enough')
})

test('scopes: a token without the scope gets 403 insufficient_scope', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const withScope = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public, { claims: { scope: 'openid orders/read' } }))
  assert.equal((await app.inject({ url: '/orders', headers: withScope })).statusCode, 200)
  const without = await app.inject({ url: '/orders', headers: bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public, { claims: { scope: 'openid email' } })) })
  assert.equal(without.statusCode, 403)
  assert.equal(without.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="orders/read"')
})

test('session cookie: the browser session authorizes guarded routes; groups from the session', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp, { username: 'bob' })
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const admin = await app.inject({ url: '/admin', headers: { cookie: jar.header, accept: 'text/html' } })
  assert.equal(admin.statusCode, 403)
})

test('an invalid Bearer token never falls back to the session cookie', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header, authorization: 'Bearer not.a.token' } })
  assert.equal(response.statusCode, 401)
  assert.match(response.headers['www-authenticate'] as string, /^Bearer error="invalid_token"/)
})

test('a malformed Authorization header is 401', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me', headers: { authorization: 'Bearer' } })
  assert.equal(response.statusCode, 401)
})

test('a static jwks option verifies tokens without ever fetching the JWKS', async (t) => {
  const idp = await startIdp(t)
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: unknown[] }
  const fetched = idp.requests.jwks
  const app = await buildApp(t, idp, 'public', { jwks, jwksUri: 'http://127.0.0.1:9/unreachable.json' })
  const response = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })
  assert.equal(response.statusCode, 200)
  const unknownKid = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: 'other=' } })) })
  assert.equal(unknownKid.statusCode, 401)
  assert.equal(idp.requests.jwks, fetched)
})

test('a guard called directly from an async hook returns a promise: it admits, refuses (401, 403) and redirects', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const adminOnly = app.cognito.requireAuth({ groups: ['admin'] })
  app.addHook('preHandler', async function (request, reply) {
    if (!request.url.startsWith('/area/')) return
    const outcome = adminOnly.call(this, request, reply)
    assert.ok(outcome instanceof Promise)
    await outcome
  })
  app.get('/area/report', async (request) => ({ username: request.user?.username }))
  await app.ready()
  const alice = (await login(app, idp)).jar.header
  const bob = (await login(app, idp, { username: 'bob' })).jar.header
  assert.deepEqual((await app.inject({ url: '/area/report', headers: { cookie: alice } })).json(), { username: 'alice' })
  const forbidden = await app.inject({ url: '/area/report', headers: { cookie: bob } })
  assert.equal(forbidden.statusCode, 403)
  assert.equal(forbidden.json().code, 'FST_COGNITO_FORBIDDEN')
  const anonymous = await app.inject({ url: '/area/report' })
  assert.equal(anonymous.statusCode, 401)
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer')
  const browser = await app.inject({ url: '/area/report', headers: { accept: 'text/html' } })
  assert.equal(browser.statusCode, 302)
  assert.equal(browser.headers.location, `/login?returnTo=${encodeURIComponent('/area/report')}`)
})
