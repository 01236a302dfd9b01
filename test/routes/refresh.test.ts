import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, login, startIdp } from '../helpers/app.js'

test('POST /refresh without a session is 401', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ method: 'POST', url: '/refresh' })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED')
})

test('refresh replies with the new expiry and stores the new tokens', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'confidential')
  const { jar } = await login(app, idp)
  const before = (await app.inject({ url: '/me', headers: { cookie: jar.header } })).json().tokenPayload
  const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers['cache-control'], 'no-store')
  jar.store(response)
  const after = (await app.inject({ url: '/me', headers: { cookie: jar.header } })).json().tokenPayload
  assert.equal(response.json().expiresAt, after.exp)
  assert.equal(after.origin_jti, before.origin_jti)
  assert.notEqual(after.jti, before.jti)
})

test('with refresh-token rotation the new refresh token replaces the old one', async (t) => {
  const idp = await startIdp(t)
  idp.clients.forEach((client) => { client.refreshTokenRotation = true; client.rotationGracePeriodSeconds = 0 })
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const stale = jar.clone()
  const first = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(first.statusCode, 200)
  jar.store(first)
  const second = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(second.statusCode, 200, 'the rotated refresh token was stored')
  assert.equal(idp.requests.tokenRefresh, 2)
  // A request still carrying the cookie from before the first refresh (sent before the browser stored the new one)
  // gets that refresh's result, not an invalid_grant for the rotated-away token, and no extra token call.
  const withOld = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: stale.header } })
  assert.equal(withOld.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 2)
})

test('invalid_grant (refresh token revoked) ends the session: cookies cleared, 401', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  idp.revokeAllSessions()
  const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  jar.store(response)
  assert.equal([...jar.cookies.keys()].some((name) => name.startsWith('cognito_session')), false)
})

test('a network fault during refresh keeps the session (the user may retry)', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  app.log.level = 'silent'
  const { jar } = await login(app, idp)
  await idp.close()
  const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 503)
  assert.equal(response.json().code, 'FST_COGNITO_IDP_UNAVAILABLE')
  assert.equal(response.headers['set-cookie'], undefined, 'no cookie is touched')
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200, 'the cached keys still verify the session')
})
