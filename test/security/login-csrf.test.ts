import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, CookieJar, location, login, signInAtIdp, startIdp } from '../helpers/app.js'

// RFC 9700 4.7 / 2.1: the callback must belong to a login this browser started. Every refusal is a typed 400, the
// code is never exchanged, and no session cookie is set.

function sessionCookieSet (response: { cookies: Array<{ name: string, value: string }> }): boolean {
  return response.cookies.some((cookie) => cookie.name.includes('_session') && cookie.value !== '')
}

test('callback with a wrong state', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const start = await app.inject({ url: '/login' })
  const jar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  callbackUrl.searchParams.set('state', 'forged-state')
  const response = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_STATE_MISMATCH')
  assert.equal(idp.requests.tokenAuthorizationCode, 0, 'the code is never exchanged')
  assert.equal(sessionCookieSet(response), false)
})

test('callback with a missing state', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const start = await app.inject({ url: '/login' })
  const jar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  callbackUrl.searchParams.delete('state')
  const response = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_STATE_MISMATCH')
  assert.equal(idp.requests.tokenAuthorizationCode, 0)
})

test('callback replayed with the same state after it was used', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar, callbackUrl } = await login(app, idp)
  const again = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(again.statusCode, 400)
  assert.equal(again.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
  assert.equal(idp.requests.tokenAuthorizationCode, 1)
})

test('callback with no transaction cookie', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const start = await app.inject({ url: '/login' })
  const callbackUrl = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  const response = await app.inject({ url: callbackUrl.pathname + callbackUrl.search })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
  assert.equal(idp.requests.tokenAuthorizationCode, 0)
})

test('callback with the transaction cookie of another browser (login CSRF)', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  // The attacker signs in as themselves and hands the victim their callback URL.
  const attackerStart = await app.inject({ url: '/login' })
  const attackerCallback = await signInAtIdp(idp, location(attackerStart), 'bob', 'bob-password-1')
  const victim = new CookieJar().store(await app.inject({ url: '/login' }))
  const response = await app.inject({ url: attackerCallback.pathname + attackerCallback.search, headers: { cookie: victim.header } })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_STATE_MISMATCH')
  assert.equal(sessionCookieSet(response), false)
  assert.equal(idp.requests.tokenAuthorizationCode, 0)
})

test('a transaction cookie encrypted under another app\'s secret is no transaction', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const other = await buildApp(t, idp, 'public', { sessionSecret: 'a-different-secret-a-different-secret-!!' })
  const start = await other.inject({ url: '/login' })
  const jar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  const response = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
})

test('code replay: a second use of the same code ends in FST_COGNITO_INVALID_GRANT', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { callback, callbackUrl, jarBeforeCallback } = await login(app, idp)
  assert.equal(callback.statusCode, 302)
  // With the cookies the browser had before the callback, the transaction is still there and the code reaches
  // Cognito a second time: Cognito says invalid_grant.
  const replay = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jarBeforeCallback.header } })
  assert.equal(replay.statusCode, 400)
  assert.equal(replay.json().code, 'FST_COGNITO_INVALID_GRANT')
  assert.equal(sessionCookieSet(replay), false)
})
