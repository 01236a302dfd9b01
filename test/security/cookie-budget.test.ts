import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'
import { packSession } from '../../lib/session/pack.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CLIENT_IDS, CookieJar, location, login, pluginOptions, signInAtIdp, startIdp } from '../helpers/app.js'
import { startCognitoProxy } from '../helpers/cognito-proxy.js'
import { cookieForger } from '../helpers/session-cookie.js'

// Issue 11, finding 4: the plugin wrote sessions its own server could not receive (up to 8 chunks, ~30 KB, over
// Node's 16-KiB request-head limit): with ~200 groups every request, /logout included, got 431 and the browser was
// locked out until the cookies expired. A session over the budget (maxSessionCookieBytes, default two cookies) is
// refused at sign-in with a typed error that gives the numbers, no cookie is written, and the refresh token is revoked.

/** 200 group names of 48 random characters: what deflate cannot shrink much, as real group names of a big directory. */
const manyGroups = Array.from({ length: 200 }, (_, i) => `g${String(i).padStart(3, '0')}-${randomBytes(33).toString('base64url')}`)

const DEFAULT_BUDGET = 2 * 3800
/** Browsers drop a cookie whose name, value and attributes exceed 4096 bytes. */
const BROWSER_COOKIE_LIMIT = 4096

async function idpWithManyGroups (t: TestContext): Promise<LocalCognito> {
  return await startIdp(t, {
    users: [
      { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', groups: ['admin', 'editor'] },
      { username: 'manny', password: 'manny-password-1', email: 'manny@example.com', groups: manyGroups }
    ]
  })
}

async function appFor (t: TestContext, options: FastifyCognitoOptions): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ groups: request.user?.groups.length }))
  await app.ready()
  app.log.level = 'silent'
  return app
}

function sessionSetCookies (response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie']
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
  return lines.filter((line) => line.startsWith('cognito_session.') && !line.includes('Max-Age=0'))
}

function assertTooLarge (response: LightMyRequestResponse, limit: number): number {
  assert.equal(response.statusCode, 500)
  const body = response.json()
  assert.equal(body.code, 'FST_COGNITO_SESSION_TOO_LARGE')
  const match = /needs (\d+) bytes of cookies, over the budget of (\d+) \(option maxSessionCookieBytes\)/.exec(body.message)
  assert.ok(match !== null, `the message gives the numbers: ${String(body.message)}`)
  const size = Number(match[1])
  assert.equal(Number(match[2]), limit)
  assert.ok(size > limit)
  assert.deepEqual(sessionSetCookies(response), [], 'no session cookie is written')
  return size
}

test('sign-in of a user with 200 long group names is refused (500 FST_COGNITO_SESSION_TOO_LARGE), no cookie, refresh token revoked', async (t) => {
  const idp = await idpWithManyGroups(t)
  // The callback goes to an app whose back channel passes through a proxy, to see the refresh token it was given.
  const proxy = await startCognitoProxy(t, idp)
  const signInApp = await appFor(t, pluginOptions(idp, 'public'))
  const app = await appFor(t, pluginOptions(idp, 'public', { domain: proxy.domain }))
  const jar = new CookieJar()
  const start = await signInApp.inject({ url: '/login' })
  jar.store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'manny', 'manny-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  const size = assertTooLarge(callback, DEFAULT_BUDGET)
  t.diagnostic(`200 groups: the session would need ${size} bytes of cookies (budget ${DEFAULT_BUDGET})`)

  assert.equal(idp.requests.revoke, 1, 'the refresh token is revoked')
  const exchange = proxy.answers.find((answer) => answer.path === '/oauth2/token')
  const refreshToken = JSON.parse(exchange?.body ?? '{}').refresh_token
  assert.equal(typeof refreshToken, 'string')
  const reuse = await fetch(`${idp.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_IDS.public })
  })
  assert.equal(reuse.status, 400)
  assert.equal((await reuse.json() as { error: string }).error, 'invalid_grant', 'the revoked refresh token is dead at Cognito')
})

test('an onLogin that returns 20 KB of data is refused the same way, and the refresh token revoked', async (t) => {
  const idp = await startIdp(t)
  const app = await appFor(t, pluginOptions(idp, 'public', { onLogin: async () => ({ blob: randomBytes(15_000).toString('base64') }) }))
  const { callback } = await login(app, idp)
  const size = assertTooLarge(callback, DEFAULT_BUDGET)
  t.diagnostic(`onLogin with 20 KB of data: ${size} bytes of cookies`)
  assert.equal(idp.requests.revoke, 1)
})

test('maxSessionCookieBytes raises the budget: the 200-group user signs in, in cookies of at most 3,800 characters each', async (t) => {
  const idp = await idpWithManyGroups(t)
  const app = await appFor(t, pluginOptions(idp, 'public', { maxSessionCookieBytes: 15_200 }))
  const { jar, callback } = await login(app, idp, { username: 'manny' })
  assert.equal(callback.statusCode, 302)
  const lines = sessionSetCookies(callback)
  assert.ok(lines.length >= 3, `several cookies (${lines.length})`)
  const values = [...jar.cookies].filter(([name]) => name.startsWith('cognito_session.'))
  for (const [, value] of values) assert.ok(value.length <= 3800)
  for (const line of lines) assert.ok(Buffer.byteLength(line) < BROWSER_COOKIE_LIMIT, `a Set-Cookie of ${Buffer.byteLength(line)} bytes`)
  const total = values.reduce((sum, [, value]) => sum + value.length, 0)
  assert.ok(total > DEFAULT_BUDGET && total <= 15_200)
  t.diagnostic(`200 groups with maxSessionCookieBytes 15200: ${lines.length} cookies, ${total} bytes of values, Cookie header ${Buffer.byteLength(jar.header)} bytes`)
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
  assert.deepEqual(me.json(), { groups: 200 })
  assert.equal(idp.requests.revoke, 0)
})

test('maxSessionCookieBytes outside 3800..15200 (or not a whole number) is an options error at register', async (t) => {
  const idp = await startIdp(t)
  for (const value of [0, 3799, 15_201, 100_000, -1, 3800.5, '7600', null]) {
    const app = Fastify()
    t.after(async () => { await app.close() })
    app.register(fastifyCognito, pluginOptions(idp, 'public', { maxSessionCookieBytes: value as number }))
    await assert.rejects(async () => { await app.ready() }, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'FST_COGNITO_INVALID_OPTION', String(value))
      assert.match(error.message, /maxSessionCookieBytes.*3800 to 15200/)
      return true
    })
  }
  for (const value of [3800, 15_200]) {
    const app = await appFor(t, pluginOptions(idp, 'public', { maxSessionCookieBytes: value }))
    assert.ok(app.cognito !== undefined, `${value} is accepted`)
  }
})

test('a normal session: each cookie is under 4096 bytes, and a 2-group session fits in one cookie', async (t) => {
  const idp = await startIdp(t)
  const options = pluginOptions(idp, 'public')
  const app = await appFor(t, options)
  const { jar, callback } = await login(app, idp, { username: 'alice' })
  assert.equal(callback.statusCode, 302)
  const lines = sessionSetCookies(callback)
  assert.equal(lines.length, 1, 'one cookie')
  assert.match(lines[0] as string, /^cognito_session\.0=/)
  for (const header of [callback.headers['set-cookie']].flat()) assert.ok(Buffer.byteLength(String(header)) < BROWSER_COOKIE_LIMIT)
  const value = jar.cookies.get('cognito_session.0') ?? ''
  const session = cookieForger(options).openSession(jar.header) ?? {}
  const tokens = ['accessToken', 'idToken', 'refreshToken'].map((field) => `${field} ${String(session[field]).length}`).join(', ')
  const packed = packSession(session).length
  t.diagnostic(`2-group session: ${packed} packed bytes, cookie value ${value.length} bytes, Set-Cookie ${Buffer.byteLength(lines[0] as string)} bytes (${tokens} characters)`)
  // One encoding layer: base64url of nonce (24) + MAC (16) + version and sealing time (5) + the packed session.
  assert.equal(value.length, Math.ceil((24 + 16 + 5 + packed) * 4 / 3), `one base64url layer over ${packed} packed bytes`)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
})

test('a session that outgrows the budget at a refresh is ended (cookies cleared) instead of written', async (t) => {
  const idp = await startIdp(t)
  const app = await appFor(t, pluginOptions(idp, 'public'))
  const { jar } = await login(app, idp, { username: 'bob' })
  const bob = idp.users.find((user) => user.username === 'bob')
  assert.ok(bob !== undefined)
  bob.groups = manyGroups
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assertTooLarge(refresh, DEFAULT_BUDGET)
  assert.ok(refresh.cookies.some((cookie: { name: string, maxAge?: number }) => cookie.name === 'cognito_session.0' && cookie.maxAge === 0), 'the cookies are cleared')
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401, 'the old cookies do not come back')
})
