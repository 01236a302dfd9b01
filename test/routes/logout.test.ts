import { test } from 'node:test'
import assert from 'node:assert/strict'
import { APP_ORIGIN, buildApp, CLIENT_IDS, login, startIdp } from '../helpers/app.js'

test('GET /logout revokes the refresh token: Cognito then refuses tokens issued from it', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const me = (await app.inject({ url: '/me', headers: { cookie: jar.header } })).json()
  assert.ok(me.user)
  const stale = jar.clone()
  const response = await app.inject({ url: '/logout', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 302)
  assert.equal(idp.requests.revoke, 1)
  const refreshWithStaleCookie = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: stale.header } })
  assert.equal(refreshWithStaleCookie.statusCode, 401, 'a copy of the old cookie cannot refresh any more')
  assert.equal(refreshWithStaleCookie.json().code, 'FST_COGNITO_SESSION_EXPIRED')
})

test('logout without logoutUri ends on afterLoginRedirect', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { logoutUri: undefined, afterLoginRedirect: '/bye' })
  const { jar } = await login(app, idp)
  const response = await app.inject({ url: '/logout', headers: { cookie: jar.header } })
  assert.equal(response.headers.location, '/bye')
})

test('logout without a session still clears and redirects', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ method: 'POST', url: '/logout' })
  assert.equal(response.statusCode, 302)
  assert.equal(new URL(response.headers.location as string).searchParams.get('client_id'), CLIENT_IDS.public)
  assert.equal(idp.requests.revoke, 0)
})

test('a failing revoke endpoint never blocks logout', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'confidential')
  app.log.level = 'silent'
  const { jar } = await login(app, idp)
  await idp.close()
  const response = await app.inject({ url: '/logout', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 302)
  jar.store(response)
  assert.equal(jar.cookies.size, 0)
})

test('an HTML form posting to /logout (empty form-urlencoded body) is accepted', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const response = await app.inject({
    method: 'POST',
    url: '/logout',
    headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded', origin: APP_ORIGIN, 'sec-fetch-site': 'same-origin' },
    payload: ''
  })
  assert.equal(response.statusCode, 302)
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=b' })
  assert.equal(refresh.statusCode, 401, 'parsed and ignored: no 415')
})
