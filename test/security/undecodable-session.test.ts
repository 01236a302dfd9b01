import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { packSession } from '../../lib/session/pack.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { login, pluginOptions, startIdp, type TestOptions } from '../helpers/app.js'
import { cookieForger, type CookieForger } from '../helpers/session-cookie.js'

// Issue 11, finding 2: decrypted plaintext that is not the plugin's session answered 500 with the parse error
// (quoting the plaintext), from the guard and from the callback. Anything that decrypts but does not decode is no
// session (401) and no login (400), never a 500. And a session's sign-in time or sealing time in the future must
// not let it escape maxSessionAge.

async function appWithForger (t: TestContext, overrides: Partial<TestOptions> = {}): Promise<{ app: FastifyInstance, idp: LocalCognito, forger: CookieForger }> {
  const idp = await startIdp(t)
  const options = pluginOptions(idp, 'public', overrides)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  app.get('/status', async (request) => ({ authenticated: await request.cognito.isAuthenticated(), data: request.cognito.sessionData ?? null }))
  await app.ready()
  return { app, idp, forger: cookieForger(options) }
}

/** A frame of the plugin's pack format (version 1, the JSON part, three absent tokens), deflated, with any JSON text. */
function packedFrame (json: string): Buffer {
  const text = Buffer.from(json, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(text.length)
  return deflateRawSync(Buffer.concat([Buffer.of(1), length, text, Buffer.of(0, 0, 0)]))
}

/** No stack, no parse error, none of the plaintext quoted back. */
function assertPlainRefusal (response: LightMyRequestResponse, status: number, code: string, plaintext?: string): void {
  assert.equal(response.statusCode, status, response.body)
  const body = response.json()
  assert.equal(body.code, code)
  assert.equal(body.stack, undefined)
  assert.doesNotMatch(response.body, /Unexpected token|is not valid JSON|SyntaxError|TypeError|at .*\.js:\d+/)
  if (plaintext !== undefined && plaintext.length > 3) assert.ok(!response.body.includes(plaintext), 'the plaintext is not quoted')
}

async function assertNoSession (app: FastifyInstance, cookie: string, what: string): Promise<void> {
  const me = await app.inject({ url: '/me', headers: { cookie } })
  assertPlainRefusal(me, 401, 'FST_COGNITO_UNAUTHENTICATED', what)
  const browser = await app.inject({ url: '/me', headers: { cookie, accept: 'text/html' } })
  assert.equal(browser.statusCode, 302, what)
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie } })
  assertPlainRefusal(refresh, 401, 'FST_COGNITO_UNAUTHENTICATED', what)
  assert.deepEqual((await app.inject({ url: '/status', headers: { cookie } })).json(), { authenticated: false, data: null }, what)
  assert.equal((await app.inject({ url: '/logout', headers: { cookie } })).statusCode, 302, `${what}: logout still works`)
}

test('control: the harness\'s own sealing of a real session authenticates', async (t) => {
  const { app, idp, forger } = await appWithForger(t)
  const { jar } = await login(app, idp)
  const session = forger.openSession(jar.header)
  assert.ok(session !== undefined)
  const response = await app.inject({ url: '/me', headers: { cookie: forger.forgeSession(session) } })
  assert.equal(response.statusCode, 200)
})

const undecodable: Record<string, Buffer> = {
  'random bytes': randomBytes(300),
  'deflate of "not json"': deflateRawSync(Buffer.from('not json')),
  'a pack frame whose JSON part is "not json"': packedFrame('not json'),
  'a pack frame of null': packedFrame('null'),
  'a pack frame of an array': packedFrame('[1,2,3]'),
  'a pack frame of a string': packedFrame('"a string"'),
  'a pack of an empty object': packSession({}),
  'a pack of a session with a wrong field type': packSession({ v: 1, sid: 's', sub: 'x', accessToken: 'a.b.c', expiresAt: 'never', issuedAt: 0, createdAt: 0 }),
  'an empty payload': Buffer.alloc(0)
}

for (const [what, payload] of Object.entries(undecodable)) {
  test(`a session cookie that decrypts to ${what} is no session: 401, never 500`, async (t) => {
    const { app, forger } = await appWithForger(t)
    await assertNoSession(app, forger.sessionHeader(forger.seal(payload)), what)
  })
}

const loginPlaintexts = ['not json', 'null', '[]', '"a string"', '42', '{"transactions":"not a list"}', '{"transactions":[{"state":"s"}]}', '']

test('a login-transaction cookie that decrypts to anything but the plugin\'s JSON: the callback answers 400, never 500', async (t) => {
  const { app, forger } = await appWithForger(t)
  app.log.level = 'silent'
  for (const plaintext of loginPlaintexts) {
    const callback = await app.inject({ url: '/login/redirect?code=some-code&state=s', headers: { cookie: forger.loginHeader(plaintext) } })
    assertPlainRefusal(callback, 400, 'FST_COGNITO_LOGIN_STATE_MISSING', plaintext)
    // Starting a new login over such a cookie works, and replaces it with a list of exactly that new login.
    const start = await app.inject({ url: '/login', headers: { cookie: forger.loginHeader(plaintext) } })
    assert.equal(start.statusCode, 302, plaintext)
    const written = start.cookies.find((cookie: { name: string }) => cookie.name === forger.loginCookieName) as { value: string }
    const transactions = JSON.parse(forger.openLogin(`${forger.loginCookieName}=${written.value}`) ?? 'null').transactions
    assert.equal(transactions.length, 1, plaintext)
  }
})

test('control: a well-formed login cookie from the harness is read (the callback gets as far as the code exchange)', async (t) => {
  const { app, forger } = await appWithForger(t)
  app.log.level = 'silent'
  const plaintext = JSON.stringify({ transactions: [{ state: 's', codeVerifier: 'v'.repeat(43), createdAt: Math.floor(Date.now() / 1000) }] })
  const callback = await app.inject({ url: '/login/redirect?code=some-code&state=s', headers: { cookie: forger.loginHeader(plaintext) } })
  assert.equal(callback.statusCode, 400)
  assert.equal(callback.json().code, 'FST_COGNITO_INVALID_GRANT', 'Cognito refused the made-up code: the transaction was found')
})

test('a session whose sign-in time (createdAt) is in the future does not escape maxSessionAge: 401 FST_COGNITO_SESSION_EXPIRED', async (t) => {
  const { app, idp, forger } = await appWithForger(t, { maxSessionAge: 3600 })
  const { jar } = await login(app, idp)
  const session = forger.openSession(jar.header)
  assert.ok(session !== undefined && typeof session.createdAt === 'number')
  const now = Math.floor(Date.now() / 1000)
  for (const createdAt of [now + 3600, now + 365 * 24 * 3600, Number.MAX_SAFE_INTEGER]) {
    // A sid of its own each time: ending one forged session must not be what refuses the next.
    const cookie = forger.forgeSession({ ...session, sid: `${String(session.sid)}-${createdAt}`, createdAt })
    const me = await app.inject({ url: '/me', headers: { cookie } })
    assertPlainRefusal(me, 401, 'FST_COGNITO_SESSION_EXPIRED')
    assert.ok(me.cookies.some((c: { name: string, maxAge?: number }) => c.name === `${forger.sessionCookieName}.0` && c.maxAge === 0), 'the cookies are cleared')
    assert.deepEqual((await app.inject({ url: '/status', headers: { cookie } })).json(), { authenticated: false, data: null })
    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie } })
    assertPlainRefusal(refresh, 401, 'FST_COGNITO_SESSION_EXPIRED')
  }
})

test('a session cookie sealed in the future, or before time began, is no session', async (t) => {
  const { app, idp, forger } = await appWithForger(t)
  const { jar } = await login(app, idp)
  const session = forger.openSession(jar.header)
  assert.ok(session !== undefined)
  const now = Date.now() / 1000
  const packed = packSession(session)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: forger.sessionHeader(forger.seal(packed, now)) } })).statusCode, 200, 'control: sealed now')
  for (const [what, sealedAt] of [['an hour ahead', now + 3600], ['at epoch 0', 0], ['past the cookie lifetime', now - 31 * 24 * 3600]] as const) {
    await assertNoSession(app, forger.sessionHeader(forger.seal(packed, sealedAt)), `sealed ${what}`)
  }
})
