import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import { buildApp, CookieJar, login, pluginOptions, startIdp } from '../helpers/app.js'
import { cookieForger } from '../helpers/session-cookie.js'

// Issue 11, finding 6: logout forgot only the remembered refresh of the current refresh token. With rotation, a copy
// of the cookies from before the last refresh still got POST /refresh 200 after logout (the remembered result of
// that refresh, with live tokens). Logout must forget every remembered refresh of the session, and no copy of its
// cookies may authenticate or pick up tokens afterwards.

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  /** The cookies after sign-in, after the first refresh, after the second. */
  jars: [CookieJar, CookieJar, CookieJar]
  accessTokens: [string, string, string]
}

async function refreshedTwice (t: TestContext): Promise<Harness> {
  const idp = await startIdp(t)
  for (const client of idp.clients) {
    client.refreshTokenRotation = true
    client.rotationGracePeriodSeconds = 0
  }
  const app = await buildApp(t, idp)
  const forger = cookieForger(pluginOptions(idp, 'public'))
  const { jar } = await login(app, idp)
  const jars: CookieJar[] = [jar.clone()]
  for (let i = 0; i < 2; i++) {
    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(refresh.statusCode, 200)
    jar.store(refresh)
    jars.push(jar.clone())
  }
  assert.equal(idp.requests.tokenRefresh, 2)
  const accessTokens = jars.map((copy) => forger.openSession(copy.header)?.accessToken)
  assert.equal(new Set(accessTokens).size, 3, 'three different access tokens')
  return { idp, app, jars: jars as Harness['jars'], accessTokens: accessTokens as Harness['accessTokens'] }
}

async function logout (app: FastifyInstance, jar: CookieJar): Promise<void> {
  const response = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 302)
}

test('control: before logout, the copy from before the last refresh gets the remembered tokens (200, no token call)', async (t) => {
  const { idp, app, jars: [, beforeLast, current] } = await refreshedTwice(t)
  const replay = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: beforeLast.header } })
  assert.equal(replay.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 2, 'the remembered result, not a token call')
  assert.equal(replay.json().expiresAt, (await app.inject({ url: '/me', headers: { cookie: current.header } })).json().tokenPayload.exp)
})

test('rotation on, grace 0: after logout, POST /refresh with a copy from before the last refresh answers 401, never 200', async (t) => {
  const { idp, app, jars: [, beforeLast, current] } = await refreshedTwice(t)
  await logout(app, current)
  assert.equal(idp.requests.revoke, 1)
  const replay = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: beforeLast.header } })
  assert.equal(replay.statusCode, 401)
  assert.equal(replay.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.ok(!replay.cookies.some((cookie: { name: string, value: string }) => cookie.name.startsWith('cognito_session.') && cookie.value !== ''), 'no session cookie handed out')
  assert.equal(idp.requests.tokenRefresh, 2, 'and no token call')
})

test('after logout, every earlier copy of the cookies is refused by a guard, and cannot refresh', async (t) => {
  const { idp, app, jars } = await refreshedTwice(t)
  await logout(app, jars[2])
  for (const [index, copy] of jars.entries()) {
    const guarded = await app.inject({ url: '/me', headers: { cookie: copy.header } })
    assert.equal(guarded.statusCode, 401, `copy ${index}`)
    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: copy.header } })
    assert.equal(refresh.statusCode, 401, `copy ${index}`)
  }
  assert.equal(idp.requests.tokenRefresh, 2)
})

test('after logout, the signed-out access token replayed as a Bearer token is refused', async (t) => {
  const { app, jars, accessTokens } = await refreshedTwice(t)
  const bearer = `Bearer ${accessTokens[2]}`
  assert.equal((await app.inject({ url: '/me', headers: { authorization: bearer } })).statusCode, 200, 'control: valid before logout')
  await logout(app, jars[2])
  const replay = await app.inject({ url: '/me', headers: { authorization: bearer } })
  assert.equal(replay.statusCode, 401)
  assert.equal(replay.json().code, 'FST_COGNITO_INVALID_TOKEN')
})

// Regression: logout once revoked only the session's current access token, so the access tokens of copies taken
// before a refresh stayed valid as Bearer tokens in the very process that handled the logout. It now revokes the
// sign-in's verified origin_jti too.
test('after logout, the older access tokens of the session (from copies before the refreshes) replayed as Bearer tokens are refused', async (t) => {
  const { app, jars, accessTokens } = await refreshedTwice(t)
  for (const token of accessTokens) {
    assert.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200, 'control: valid before logout')
  }
  await logout(app, jars[2])
  for (const [index, token] of accessTokens.entries()) {
    const replay = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
    const which = index < 2 ? 'older' : 'current'
    assert.equal(replay.statusCode, 401, `${which} access token ${index} after logout answered ${replay.statusCode}`)
  }
})
