import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { APP_ORIGIN, buildApp, CLIENT_IDS, location, login, REDIRECT_URI, startIdp } from '../helpers/app.js'

test('GET /login redirects to Cognito authorize with code + PKCE S256, state and nonce', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/login' })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers['cache-control'], 'no-store')
  const url = new URL(location(response))
  assert.equal(url.origin + url.pathname, `${idp.domain}/oauth2/authorize`)
  const query = Object.fromEntries(url.searchParams)
  assert.equal(query.response_type, 'code')
  assert.equal(query.client_id, CLIENT_IDS.public)
  assert.equal(query.redirect_uri, REDIRECT_URI)
  assert.equal(query.scope, 'openid email profile')
  assert.equal(query.code_challenge_method, 'S256')
  assert.match(query.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/)
  assert.match(query.state ?? '', /^[A-Za-z0-9_-]{43}$/)
  assert.match(query.nonce ?? '', /^[A-Za-z0-9_-]{43}$/)

  const second = new URL(location(await app.inject({ url: '/login' })))
  assert.notEqual(second.searchParams.get('state'), query.state, 'a fresh state each time')
  assert.notEqual(second.searchParams.get('code_challenge'), query.code_challenge, 'a fresh verifier each time')
})

test('the login transaction cookie is HttpOnly, SameSite=Lax, Path=/, short-lived and opaque', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/login?returnTo=/private' })
  const setCookie = String(response.headers['set-cookie'])
  assert.match(setCookie, /^cognito_login=/)
  assert.match(setCookie, /HttpOnly/)
  assert.match(setCookie, /SameSite=Lax/)
  assert.match(setCookie, /Path=\//)
  assert.match(setCookie, /Max-Age=600/)
  const url = new URL(location(response))
  const value = decodeURIComponent(setCookie.split(';')[0]?.split('=').slice(1).join('=') ?? '')
  for (const secret of [url.searchParams.get('state'), url.searchParams.get('nonce'), '/private']) {
    assert.equal(value.includes(secret ?? '-'), false, 'the transaction is encrypted')
  }
  const challenge = url.searchParams.get('code_challenge') ?? ''
  assert.equal(value.includes(challenge), false)
  assert.notEqual(createHash('sha256').update(value).digest('base64url'), challenge)
})

test('without openid no nonce is sent and the login still completes', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { scopes: ['orders/read'] })
  const start = await app.inject({ url: '/login' })
  assert.equal(new URL(location(start)).searchParams.has('nonce'), false)
  const { callback, jar } = await login(app, idp)
  assert.equal(callback.statusCode, 302)
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.claims.token_use, 'access', 'no ID token: claims are the access token')
  assert.deepEqual(me.json().user.scopes, ['orders/read'])
})

test('the plugin routes mount under prefix', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { prefix: '/auth', redirectUri: `${APP_ORIGIN}/auth/login/redirect` })
  assert.equal((await app.inject({ url: '/auth/login' })).statusCode, 302)
  assert.equal((await app.inject({ url: '/login' })).statusCode, 404)
  assert.equal(app.cognito.loginPath, '/auth/login')
  const browser = await app.inject({ url: '/me', headers: { accept: 'text/html' } })
  assert.equal(browser.headers.location, '/auth/login?returnTo=%2Fme')
})
