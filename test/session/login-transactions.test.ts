import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import { registerJsonCookieCodec, type JsonCookieCodec } from '../../lib/session/codec.js'
import { LOGIN_TRANSACTION_MAX_AGE, LoginTransactions, type LoginTransaction } from '../../lib/session/login-transactions.js'
import { CookieJar } from '../helpers/app.js'

const COOKIE = 'test_login'
/** When the harness's logins start (epoch seconds). */
const STARTED = 1_900_000_000

/** Routes over one LoginTransactions: add, remove, clear, read, hasCookie. */
async function harness (t: TestContext, secure = false): Promise<{ app: FastifyInstance, codec: JsonCookieCodec, transactions: LoginTransactions, clock: { now: number } }> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  const codec = await registerJsonCookieCodec(app, [randomBytes(32)], LOGIN_TRANSACTION_MAX_AGE)
  const clock = { now: STARTED + 10 }
  const transactions = new LoginTransactions(codec, COOKIE, secure, () => clock.now)
  app.post('/add/:state', async (request, reply) => {
    const { state } = request.params as { state: string }
    transactions.add(request, reply, { state, codeVerifier: `verifier-${state}`, nonce: `nonce-${state}`, returnTo: `/${state}`, createdAt: STARTED })
    return { ok: true }
  })
  app.post('/remove/:state', async (request, reply) => {
    transactions.remove(request, reply, (request.params as { state: string }).state)
    return { ok: true }
  })
  app.post('/clear', async (request, reply) => {
    transactions.clear(request, reply)
    return { ok: true }
  })
  app.get('/read', async (request) => ({ transactions: transactions.read(request), hasCookie: transactions.hasCookie(request) }))
  await app.ready()
  return { app, codec, transactions, clock }
}

async function read (app: FastifyInstance, jar: CookieJar): Promise<{ transactions: LoginTransaction[], hasCookie: boolean }> {
  return (await app.inject({ url: '/read', headers: { cookie: jar.header } })).json()
}

test('a login is kept in one encrypted cookie, HttpOnly, SameSite=Lax, for LOGIN_TRANSACTION_MAX_AGE seconds', async (t) => {
  const { app, transactions } = await harness(t)
  assert.equal(transactions.cookieName, COOKIE)
  assert.equal(LOGIN_TRANSACTION_MAX_AGE, 600)
  const response = await app.inject({ method: 'POST', url: '/add/s1' })
  const setCookie = String(response.headers['set-cookie'])
  assert.match(setCookie, /^test_login=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/)
  assert.equal(setCookie.includes('verifier-s1'), false)
  const jar = new CookieJar().store(response)
  assert.deepEqual(await read(app, jar), {
    transactions: [{ state: 's1', codeVerifier: 'verifier-s1', nonce: 'nonce-s1', returnTo: '/s1', createdAt: STARTED }],
    hasCookie: true
  })
})

test('Secure when the store is', async (t) => {
  const { app } = await harness(t, true)
  assert.match(String((await app.inject({ method: 'POST', url: '/add/s1' })).headers['set-cookie']), /; HttpOnly; Secure; SameSite=Lax$/)
})

test('logins in several tabs side by side: the newest three are kept', async (t) => {
  const { app } = await harness(t)
  const jar = new CookieJar()
  for (const state of ['s1', 's2', 's3', 's4']) jar.store(await app.inject({ method: 'POST', url: `/add/${state}`, headers: { cookie: jar.header } }))
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['s2', 's3', 's4'])
})

test('remove takes one login out; the last one out deletes the cookie', async (t) => {
  const { app } = await harness(t)
  const jar = new CookieJar()
  for (const state of ['s1', 's2']) jar.store(await app.inject({ method: 'POST', url: `/add/${state}`, headers: { cookie: jar.header } }))
  jar.store(await app.inject({ method: 'POST', url: '/remove/s1', headers: { cookie: jar.header } }))
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['s2'])
  jar.store(await app.inject({ method: 'POST', url: '/remove/unknown', headers: { cookie: jar.header } }))
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['s2'], 'an unknown state removes nothing')
  const last = await app.inject({ method: 'POST', url: '/remove/s2', headers: { cookie: jar.header } })
  assert.match(String(last.headers['set-cookie']), /^test_login=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  jar.store(last)
  assert.deepEqual(await read(app, jar), { transactions: [], hasCookie: false })
})

test('clear deletes the cookie only when the browser sent one', async (t) => {
  const { app } = await harness(t)
  assert.equal((await app.inject({ method: 'POST', url: '/clear' })).headers['set-cookie'], undefined)
  assert.match(String((await app.inject({ method: 'POST', url: '/clear', headers: { cookie: 'test_login=garbage' } })).headers['set-cookie']), /^test_login=; Max-Age=0/)
  assert.match(String((await app.inject({ method: 'POST', url: '/clear', headers: { cookie: 'test_login=' } })).headers['set-cookie']), /^test_login=; Max-Age=0/)
})

test('a cookie that does not decrypt is no login, though the cookie is there', async (t) => {
  const { app } = await harness(t)
  const { codec: otherCodec } = await harness(t)
  for (const value of ['garbage', 'a.b', otherCodec.encode({ transactions: [{ state: 's', codeVerifier: 'v', createdAt: STARTED }] })]) {
    const jar = new CookieJar()
    jar.cookies.set(COOKIE, value)
    assert.deepEqual(await read(app, jar), { transactions: [], hasCookie: true }, value.slice(0, 20))
  }
  const empty = new CookieJar()
  empty.cookies.set(COOKIE, '')
  assert.deepEqual(await read(app, empty), { transactions: [], hasCookie: false }, 'an empty value is no cookie')
})

test('what decrypts but is no list of logins is dropped, entry by entry', async (t) => {
  const { app, codec } = await harness(t)
  const valid = { state: 's', codeVerifier: 'v', createdAt: STARTED }
  const cases: Array<[unknown, string[]]> = [
    [undefined, []],
    ['s', []],
    [{ 0: valid }, []],
    [[valid, null, 'x', [valid]], ['s']],
    [[{ ...valid, state: 1 }, { ...valid, codeVerifier: undefined }, { ...valid, createdAt: '1' }, { ...valid, nonce: 1 }, { ...valid, returnTo: {} }, { ...valid, state: 'ok', nonce: 'n', returnTo: '/r' }], ['ok']]
  ]
  for (const [list, states] of cases) {
    const jar = new CookieJar()
    jar.cookies.set(COOKIE, codec.encode({ transactions: list }))
    assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), states, JSON.stringify(list))
  }
})

test('a session cookie of the same codec is read under its own name only', async (t) => {
  const { app, codec } = await harness(t)
  const jar = new CookieJar()
  jar.cookies.set('other_login', codec.encode({ transactions: [{ state: 's', codeVerifier: 'v', createdAt: STARTED }] }))
  jar.cookies.set(`x${COOKIE}`, 'also-not-it')
  assert.deepEqual(await read(app, jar), { transactions: [], hasCookie: false })
})

test('each login is valid for LOGIN_TRANSACTION_MAX_AGE seconds from its own start, and not from the future', async (t) => {
  const { app, codec, clock } = await harness(t)
  const jar = new CookieJar()
  const at = (state: string, createdAt: number): LoginTransaction => ({ state, codeVerifier: 'v', createdAt })
  jar.cookies.set(COOKIE, codec.encode({ transactions: [at('old', STARTED - 600), at('oldest-kept', STARTED - 599), at('now', STARTED), at('soon', STARTED + 60), at('future', STARTED + 61)] }))
  clock.now = STARTED
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['oldest-kept', 'now', 'soon'])
  clock.now = STARTED + 599
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['now', 'soon', 'future'])
  clock.now = STARTED + 600
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['soon', 'future'])
  assert.equal((await read(app, jar)).hasCookie, true, 'the cookie is still there')
})

test('adding a login drops the ones that expired', async (t) => {
  const { app, clock } = await harness(t)
  const jar = new CookieJar()
  jar.store(await app.inject({ method: 'POST', url: '/add/s1' }))
  clock.now = STARTED + 600
  jar.store(await app.inject({ method: 'POST', url: '/add/s2', headers: { cookie: jar.header } }))
  clock.now = STARTED
  assert.deepEqual((await read(app, jar)).transactions.map((tx) => tx.state), ['s2'])
})
