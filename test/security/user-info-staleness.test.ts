import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type CognitoUser, type FastifyCognitoOptions } from '../../lib/index.js'
import type { LocalCognito, LocalCognitoUser } from '../../lib/testing/index.js'
import { CookieJar, login, pluginOptions, startIdp } from '../helpers/app.js'
import { startCognitoProxy, userInfoInvalidToken } from '../helpers/cognito-proxy.js'

// Issue 11, finding 3: with `userInfo: true`, the userInfo of the sign-in was spread over every later ID token for
// the whole session, so an attribute an admin changed or removed stayed in request.user for up to maxSessionAge.
// userInfo is fetched again at every refresh (once per refresh), fresher verified claims win, and a userInfo 401 at
// a refresh (token revoked, signed out everywhere) ends the session.

const carol: LocalCognitoUser = {
  username: 'carol',
  password: 'carol-password-1',
  email: 'carol@example.com',
  name: 'Carol Original',
  attributes: { 'custom:tenant': 'acme', 'custom:plan': 'gold' }
}

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  jar: CookieJar
  /** The users onRefresh was called with. */
  refreshed: CognitoUser[]
  /** The shared clock of the IdP and the app, epoch ms. */
  clock: { now: number }
}

async function buildUserInfoApp (t: TestContext, options: FastifyCognitoOptions, refreshed: CognitoUser[] = []): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, { ...options, userInfo: true, onRefresh: async (_request, user) => { refreshed.push(user) } })
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => request.user)
  await app.ready()
  return app
}

async function signedInCarol (t: TestContext): Promise<Harness> {
  const clock = { now: Date.now() }
  const idp = await startIdp(t, { users: [structuredClone(carol)], now: () => clock.now })
  const refreshed: CognitoUser[] = []
  const app = await buildUserInfoApp(t, pluginOptions(idp, 'public', { now: () => clock.now }), refreshed)
  const { jar } = await login(app, idp, { username: 'carol' })
  assert.equal(idp.requests.userInfo, 1, 'one userInfo call at sign-in')
  return { idp, app, jar, refreshed, clock }
}

async function claimsOf (app: FastifyInstance, jar: CookieJar): Promise<Record<string, unknown>> {
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200, response.body)
  jar.store(response)
  return response.json().claims
}

/** The admin changes carol at the IdP: a new tenant, a new name, the plan removed. */
function changeCarolAtIdp (idp: LocalCognito): void {
  const user = idp.users.find((candidate) => candidate.username === 'carol')
  assert.ok(user !== undefined)
  user.attributes = { 'custom:tenant': 'globex' }
  user.name = 'Carol Changed'
}

function assertChangedClaims (claims: Record<string, unknown>): void {
  assert.equal(claims['custom:tenant'], 'globex')
  assert.equal(claims.name, 'Carol Changed')
  assert.equal('custom:plan' in claims, false, 'the removed attribute is gone')
}

test('POST /refresh fetches userInfo once and request.user shows the changed attributes, without the removed one', async (t) => {
  const { idp, app, jar, refreshed } = await signedInCarol(t)
  const before = await claimsOf(app, jar)
  assert.equal(before['custom:tenant'], 'acme')
  assert.equal(before['custom:plan'], 'gold')
  assert.equal(before.name, 'Carol Original')

  changeCarolAtIdp(idp)
  assert.equal((await claimsOf(app, jar))['custom:plan'], 'gold', 'until a refresh, the session\'s claims stand')
  assert.equal(idp.requests.userInfo, 1, 'no userInfo call per request')

  for (let refresh = 1; refresh <= 2; refresh++) {
    const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(response.statusCode, 200)
    jar.store(response)
    assert.equal(idp.requests.tokenRefresh, refresh)
    assert.equal(idp.requests.userInfo, 1 + refresh, 'exactly one userInfo call per refresh')
    assertChangedClaims(await claimsOf(app, jar))
    assert.equal(idp.requests.userInfo, 1 + refresh, 'and none per request after it')
  }
  assert.equal(refreshed.length, 2)
  for (const user of refreshed) assertChangedClaims(user.claims as Record<string, unknown>)
})

test('an automatic refresh fetches userInfo once, also for many parallel requests joining it', async (t) => {
  const { idp, app, jar, clock } = await signedInCarol(t)
  changeCarolAtIdp(idp)
  // 3590 s later the 1-hour token is inside the 30-s refresh skew.
  clock.now += 3590 * 1000
  const responses = await Promise.all(Array.from({ length: 10 }, async () => await app.inject({ url: '/me', headers: { cookie: jar.header } })))
  assert.deepEqual([...new Set(responses.map((response) => response.statusCode))], [200])
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.equal(idp.requests.userInfo, 2, 'one userInfo call for the one refresh')
  for (const response of responses) assertChangedClaims(response.json().claims)
  jar.store(responses[0] as Parameters<CookieJar['store']>[0])
  assertChangedClaims(await claimsOf(app, jar))
  assert.equal(idp.requests.userInfo, 2)
})

test('a userInfo 401 at a refresh ends the session: 401 FST_COGNITO_SESSION_EXPIRED, cookies cleared, the old cookies refused', async (t) => {
  const idp = await startIdp(t, { users: [structuredClone(carol)] })
  const { jar } = await login(await buildUserInfoApp(t, pluginOptions(idp, 'public')), idp, { username: 'carol' })
  const proxy = await startCognitoProxy(t, idp, { userInfo: userInfoInvalidToken })
  const app = await buildUserInfoApp(t, pluginOptions(idp, 'public', { domain: proxy.domain }))
  app.log.level = 'silent'
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200, 'the session works in the proxied app')

  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 401)
  assert.equal(refresh.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(proxy.calls.token, 1, 'the token endpoint answered')
  assert.equal(proxy.calls.userInfo, 1)
  assert.ok(refresh.cookies.some((cookie: { name: string, maxAge?: number }) => cookie.name === 'cognito_session.0' && cookie.maxAge === 0), 'the cookies are cleared')
  assert.ok(!refresh.cookies.some((cookie: { name: string, value: string }) => cookie.name.startsWith('cognito_session.') && cookie.value !== ''), 'no new session written')

  const replay = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(replay.statusCode, 401, 'the copy of the old cookies is refused by the app that ended the session')
  const again = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(again.statusCode, 401)
  assert.equal(proxy.calls.token, 1, 'and it picks up no new tokens')
})

test('a userInfo 401 at an automatic refresh answers 401, never the old tokens', async (t) => {
  const idp = await startIdp(t, { users: [structuredClone(carol)] })
  const { jar } = await login(await buildUserInfoApp(t, pluginOptions(idp, 'public')), idp, { username: 'carol' })
  const proxy = await startCognitoProxy(t, idp, { userInfo: userInfoInvalidToken })
  // This app's clock runs 3590 s ahead: the 1-hour token is due for a refresh, but still valid.
  const app = await buildUserInfoApp(t, pluginOptions(idp, 'public', { domain: proxy.domain, now: () => Date.now() + 3590 * 1000 }))
  app.log.level = 'silent'
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(proxy.calls.userInfo, 1)
  assert.ok(response.cookies.some((cookie: { name: string, maxAge?: number }) => cookie.name === 'cognito_session.0' && cookie.maxAge === 0))
})

// Regression: the userInfo call runs after the token call, and any failure of it used to fail the whole refresh,
// dropping the tokens Cognito had just issued. With refresh-token rotation (grace period 0) the refresh token in the
// cookie was rotated away by that call: a transient userInfo fault ended the session. Now only a userInfo 401 does.
test('a userInfo 5xx at a refresh with rotation on does not lose the session: once userInfo is back, it refreshes', async (t) => {
  const idp = await startIdp(t, { users: [structuredClone(carol)] })
  for (const client of idp.clients) {
    client.refreshTokenRotation = true
    client.rotationGracePeriodSeconds = 0
  }
  const { jar } = await login(await buildUserInfoApp(t, pluginOptions(idp, 'public')), idp, { username: 'carol' })
  let userInfoDown = true
  const proxy = await startCognitoProxy(t, idp, {
    userInfo: async (request, reply) => {
      if (userInfoDown) return await reply.code(503).send('Service Unavailable')
      const response = await fetch(`${idp.domain}/oauth2/userInfo`, { headers: { authorization: String(request.headers.authorization) } })
      return await reply.code(response.status).type('application/json').send(await response.text())
    }
  })
  const app = await buildUserInfoApp(t, pluginOptions(idp, 'public', { domain: proxy.domain }))
  app.log.level = 'silent'

  const during = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.ok(during.statusCode === 200 || during.statusCode === 502, `a 200 or a 502 while userInfo is down, not ${during.statusCode}`)
  assert.notEqual(during.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  jar.store(during)
  assert.equal(idp.requests.tokenRefresh, 1)
  userInfoDown = false

  const after = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(after.statusCode, 200, `after userInfo is back, POST /refresh answered ${after.statusCode} ${after.json().code}`)
  jar.store(after)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
})
