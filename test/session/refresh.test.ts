import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import type { SignInContext } from '../../lib/context.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { assertSessionAge, refreshDueAt, type RefreshOutcome } from '../../lib/session/refresh.js'
import { buildApp, CookieJar, login, pluginOptions, startIdp, type TestOptions } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { buildSignInContext } from '../helpers/context.js'
import { closedPort } from '../helpers/http-server.js'

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  context: SignInContext
  clock: ManualClock
  jar: CookieJar
  refreshed: RefreshOutcome[]
  /** POST /refresh with the jar's cookies; `change` edits the session handed to the refresher (null removes). */
  refresh: (jar?: CookieJar, change?: Record<string, unknown>) => Promise<LightMyRequestResponse>
}

/**
 * A signed-in browser (through the plugin's own routes) and an app whose /refresh calls the context's refresher
 * directly with the session it reads. The IdP, the plugin and the refresher share one clock.
 */
async function harness (t: TestContext, overrides: Partial<TestOptions> = {}): Promise<Harness> {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const options = pluginOptions(idp, 'public', { now: clock.now, ...overrides })
  const { jar } = await login(await buildApp(t, idp, 'public', { now: clock.now }), idp)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const refreshed: RefreshOutcome[] = []
  const context = await buildSignInContext(t, app, { ...options, onRefresh: async (_request, user) => { refreshed.push({ session: { sub: user.sub } } as unknown as RefreshOutcome) } })
  app.post('/refresh', async (request, reply) => {
    const session = context.signIn.store.readSession(request)
    if (session === null) return await reply.code(401).send({ session: null })
    // The test's changes to the session: null removes a field.
    const changed: Record<string, unknown> = { ...session }
    for (const [name, value] of Object.entries((request.body ?? {}) as Record<string, unknown>)) {
      if (value === null) delete changed[name]
      else changed[name] = value
    }
    const outcome = await context.signIn.refresher.refresh(request, reply, changed as unknown as CognitoSessionData)
    return { session: outcome.session, jti: outcome.verified.access.jti, idSub: outcome.verified.id?.sub }
  })
  app.get('/session', async (request) => context.signIn.store.readSession(request))
  app.post('/age', async (request, reply) => {
    const session = context.signIn.store.readSession(request)
    assert.ok(session)
    const { maxSessionAge } = request.body as { maxSessionAge: number }
    assertSessionAge(context.signIn.store, request, reply, session, maxSessionAge, context.clock.seconds())
    return { kept: true }
  })
  await app.ready()
  return {
    idp,
    app,
    context,
    clock,
    jar,
    refreshed,
    refresh: async (from = jar, change) => await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: from.header }, ...(change === undefined ? {} : { payload: change }) })
  }
}

test('a refresh stores the new tokens in the same session and returns them verified', async (t) => {
  const { refresh, jar, idp, app } = await harness(t)
  const before = (await app.inject({ url: '/session', headers: { cookie: jar.header } })).json() as CognitoSessionData
  const response = await refresh()
  assert.equal(response.statusCode, 200)
  const { session, jti, idSub } = response.json() as { session: CognitoSessionData, jti: string, idSub: string }
  assert.equal(session.sid, before.sid, 'the same session')
  assert.notEqual(session.accessToken, before.accessToken)
  assert.equal(session.createdAt, before.createdAt, 'the sign-in is not extended')
  assert.equal(session.sub, idSub)
  assert.equal(typeof jti, 'string')
  assert.ok(response.cookies.some((cookie: { name: string, value: string }) => cookie.name.startsWith('cognito_session.') && cookie.value !== ''), 'the new cookies go out')
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('single flight: concurrent refreshes of one refresh token make one call and share its result', async (t) => {
  const { refresh, idp, refreshed } = await harness(t)
  const responses = await Promise.all(Array.from({ length: 20 }, async () => await refresh()))
  assert.deepEqual([...new Set(responses.map((response) => response.statusCode))], [200])
  assert.equal(new Set(responses.map((response) => response.json().jti)).size, 1)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.equal(refreshed.length, 1, 'onRefresh runs once, for the call that reached Cognito')
})

test('a finished refresh is reused for 30 s under the old refresh token, then Cognito is asked again', async (t) => {
  const { refresh, idp, clock, refreshed } = await harness(t)
  const first = (await refresh()).json().jti
  clock.advance(29)
  assert.equal((await refresh()).json().jti, first, 'a request still carrying the old cookie gets the same tokens')
  assert.equal(idp.requests.tokenRefresh, 1)
  clock.advance(1)
  assert.notEqual((await refresh()).json().jti, first)
  assert.equal(idp.requests.tokenRefresh, 2)
  assert.equal(refreshed.length, 2)
})

test('forget (logout) drops the remembered result: the old cookie no longer picks up its tokens', async (t) => {
  const { refresh, idp, context, jar } = await harness(t)
  const first = await refresh()
  const sid = (first.json().session as CognitoSessionData).sid
  context.signIn.refresher.forget(sid)
  context.signIn.refresher.forget('never-seen')
  assert.notEqual((await refresh(jar)).json().jti, first.json().jti)
  assert.equal(idp.requests.tokenRefresh, 2)
})

test('a remembered result is only for requests still carrying the session it replaced', async (t) => {
  const { refresh, idp } = await harness(t)
  const first = await refresh()
  const refreshedJar = new CookieJar().store(first)
  const again = await refresh(refreshedJar)
  assert.equal(again.statusCode, 200)
  assert.notEqual(again.json().jti, first.json().jti, 'the new cookie that needs a refresh gets a new one')
  assert.equal(idp.requests.tokenRefresh, 2)
})

test('a remembered result is not handed out once its own tokens are due for a refresh', async (t) => {
  const { refresh, idp, clock } = await harness(t)
  // Tokens of 40 s: refreshSkew (30) is capped at half their lifetime, so they are due 20 s after the refresh.
  for (const client of idp.clients) client.accessTokenValiditySeconds = 40
  const first = (await refresh()).json().jti
  clock.advance(19)
  assert.equal((await refresh()).json().jti, first, 'not yet due')
  clock.advance(1)
  assert.notEqual((await refresh()).json().jti, first, 'due: Cognito is asked again, though 30 s have not passed')
  assert.equal(idp.requests.tokenRefresh, 2)
})

test('refreshDueAt: refreshSkew before expiry, at most half-way through the tokens\' lifetime', () => {
  const session = (issuedAt: number, expiresAt: number): CognitoSessionData => ({ v: 1, sid: 's', sub: 'u', accessToken: 'a', issuedAt, expiresAt, createdAt: issuedAt })
  assert.equal(refreshDueAt(session(1000, 4600), 30), 4570)
  assert.equal(refreshDueAt(session(1000, 4600), 0), 4600)
  assert.equal(refreshDueAt(session(1000, 1040), 30), 1020, 'capped at half of 40 s')
  assert.equal(refreshDueAt(session(1000, 4600), 7200), 2800, 'a skew longer than the tokens live')
  assert.equal(refreshDueAt(session(2000, 1000), 30), 1000, 'tokens issued after they expire: no lifetime, no skew')
})

test('no refresh token: the session has expired, no call is made', async (t) => {
  const { refresh, idp } = await harness(t)
  const response = await refresh(undefined, { refreshToken: null })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(response.json().message, 'The session has no refresh token: sign in again')
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('invalid_grant ends the session: cookies cleared on this reply, 401 session expired', async (t) => {
  const { refresh, idp } = await harness(t)
  idp.revokeAllSessions()
  const response = await refresh()
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(response.json().message, 'The refresh token is revoked or expired: sign in again')
  const cleared = response.cookies as Array<{ name: string, maxAge?: number }>
  assert.ok(cleared.length > 0 && cleared.every((cookie) => cookie.maxAge === 0))
})

test('a network fault propagates as its own error and leaves the cookies alone', async (t) => {
  const port = await closedPort()
  const { refresh } = await harness(t, { domain: `http://127.0.0.1:${port}` })
  const response = await refresh()
  assert.equal(response.statusCode, 503)
  assert.equal(response.json().code, 'FST_COGNITO_IDP_UNAVAILABLE')
  assert.equal(response.headers['set-cookie'], undefined)
})

test('refreshed tokens of another user than the session\'s are refused, and nothing is stored', async (t) => {
  const { refresh, refreshed } = await harness(t)
  const response = await refresh(undefined, { sub: 'someone-else' })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_INVALID_TOKEN')
  assert.equal(response.json().message, 'Refreshed tokens belong to another user')
  assert.equal(response.headers['set-cookie'], undefined)
  assert.equal(refreshed.length, 0)
})

test('a session past maxSessionAge is never refreshed: cleared, 401, no call', async (t) => {
  const { refresh, idp, clock } = await harness(t, { maxSessionAge: 60 })
  clock.advance(60)
  const response = await refresh()
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().message, 'The session has reached its maximum age: sign in again')
  assert.ok((response.cookies as Array<{ maxAge?: number }>).every((cookie) => cookie.maxAge === 0))
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('assertSessionAge: nothing happens before maxSessionAge; from then on the session is cleared and expired', async (t) => {
  const { app, jar, clock } = await harness(t)
  const young = await app.inject({ method: 'POST', url: '/age', headers: { cookie: jar.header }, payload: { maxSessionAge: 100 } })
  assert.deepEqual(young.json(), { kept: true })
  assert.equal(young.headers['set-cookie'], undefined)
  clock.advance(100)
  const old = await app.inject({ method: 'POST', url: '/age', headers: { cookie: jar.header }, payload: { maxSessionAge: 100 } })
  assert.equal(old.statusCode, 401)
  assert.equal(old.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.ok((old.cookies as Array<{ name: string, maxAge?: number }>).every((cookie) => cookie.name.startsWith('cognito_session.') && cookie.maxAge === 0))
})
