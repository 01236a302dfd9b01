import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CookieJar, location, pluginOptions, signInAtIdp, startIdp } from '../helpers/app.js'
import { cookieForger } from '../helpers/session-cookie.js'

// Issue 11, finding 5: login transactions outlived their 10 minutes. Their `createdAt` was written but never
// checked, and re-encrypting the list on every login added or spent restarted the cookie's own expiry, so a login
// started 90 minutes ago still completed if other logins happened meanwhile. Each login is checked for its own age.

const MINUTE = 60_000

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  options: FastifyCognitoOptions
  /** The app's clock, epoch ms (the IdP keeps real time). */
  clock: { now: number }
  jar: CookieJar
}

async function harness (t: TestContext): Promise<Harness> {
  const idp = await startIdp(t)
  const clock = { now: Date.now() }
  const options = pluginOptions(idp, 'public', { now: () => clock.now })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  await app.ready()
  app.log.level = 'silent'
  return { idp, app, options, clock, jar: new CookieJar() }
}

/** GET /login with the browser's cookies: the authorize URL of the new login (the jar keeps the rewritten cookie). */
async function startLogin ({ app, jar }: Harness): Promise<string> {
  const start = await app.inject({ url: '/login', headers: { cookie: jar.header } })
  assert.equal(start.statusCode, 302)
  jar.store(start)
  return location(start)
}

/** Signs in at the IdP for the login behind `authorizeUrl` and sends the browser back to the callback. */
async function complete ({ idp, app, jar }: Harness, authorizeUrl: string, username = 'alice'): Promise<LightMyRequestResponse> {
  const callback = await signInAtIdp(idp, authorizeUrl, username, `${username}-password-1`)
  const response = await app.inject({ url: callback.pathname + callback.search, headers: { cookie: jar.header } })
  jar.store(response)
  return response
}

function hasSession (response: LightMyRequestResponse): boolean {
  return response.cookies.some((cookie: { name: string, value: string }) => cookie.name.startsWith('cognito_session.') && cookie.value !== '')
}

test('a login started 11 minutes ago is refused at the callback, although later logins re-encrypted the cookie meanwhile', async (t) => {
  const h = await harness(t)
  const first = await startLogin(h)
  h.clock.now += 5 * MINUTE
  const second = await startLogin(h)
  h.clock.now += 4 * MINUTE
  await startLogin(h)
  h.clock.now += 2 * MINUTE

  const late = await complete(h, first)
  assert.equal(late.statusCode, 400)
  assert.equal(late.json().code, 'FST_COGNITO_STATE_MISMATCH', 'the 11-minute-old login is no longer among this browser\'s logins')
  assert.equal(hasSession(late), false)
  assert.equal(h.idp.requests.tokenAuthorizationCode, 0, 'its code is never exchanged')

  // The login started 6 minutes ago, in the same cookie, still completes.
  const recent = await complete(h, second)
  assert.equal(recent.statusCode, 302)
  assert.equal(hasSession(recent), true)
  assert.equal((await h.app.inject({ url: '/me', headers: { cookie: h.jar.header } })).statusCode, 200)
})

test('a login started 11 minutes ago, alone in its cookie, is refused: FST_COGNITO_LOGIN_STATE_MISSING', async (t) => {
  const h = await harness(t)
  const authorize = await startLogin(h)
  h.clock.now += 11 * MINUTE
  const late = await complete(h, authorize)
  assert.equal(late.statusCode, 400)
  assert.equal(late.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
  assert.equal(hasSession(late), false)
})

test('a login started 9 minutes ago still completes', async (t) => {
  const h = await harness(t)
  const authorize = await startLogin(h)
  h.clock.now += 9 * MINUTE
  const response = await complete(h, authorize)
  assert.equal(response.statusCode, 302)
  assert.equal(hasSession(response), true)
  assert.equal((await h.app.inject({ url: '/me', headers: { cookie: h.jar.header } })).statusCode, 200)
})

test('a login cookie re-encrypted with a fresh or no secure-session timestamp does not revive an 11-minute-old login', async (t) => {
  const h = await harness(t)
  const forger = cookieForger(h.options)
  const authorize = await startLogin(h)
  const plaintext = forger.openLogin(h.jar.header)
  assert.ok(plaintext !== undefined, 'the harness opens the plugin\'s login cookie')
  const { __ts: _timestamp, ...content } = JSON.parse(plaintext) as { __ts: number, transactions: Array<{ createdAt: number }> }
  const aged = (minutes: number): typeof content => ({
    transactions: content.transactions.map((tx) => ({ ...tx, createdAt: tx.createdAt - minutes * 60 }))
  })
  const withCookie = (json: unknown): Harness => {
    const jar = new CookieJar()
    jar.cookies.set(forger.loginCookieName, forger.loginValue(JSON.stringify(json)))
    return { ...h, jar }
  }
  const nowSeconds = Math.floor(h.clock.now / 1000)
  for (const json of [aged(11), { ...aged(11), __ts: nowSeconds }]) {
    const response = await complete(withCookie(json), authorize)
    assert.equal(response.statusCode, 400, JSON.stringify(Object.keys(json)))
    assert.equal(response.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
  }
  // Control: the same re-encryption without ageing the login completes it.
  const control = await complete(withCookie(aged(0)), authorize)
  assert.equal(control.statusCode, 302)
  assert.equal(hasSession(control), true)
})
