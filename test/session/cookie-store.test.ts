import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import { CookieSessionStore } from '../../lib/session/cookie-store.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { CookieJar } from '../helpers/app.js'

const MAX_AGE = 3600

interface Harness {
  /** Writes a session with a large payload (several cookie chunks) and returns the browser's cookie jar. */
  write: (overrides?: Partial<CognitoSessionData>) => Promise<CookieJar>
  /** Reads the session of a request with these cookies (twice in the same request when `twice`). */
  read: (cookie: string) => Promise<CognitoSessionData | null>
  logout: (cookie: string) => Promise<void>
  store: CookieSessionStore
  advance: (seconds: number) => void
}

async function harness (t: TestContext, sessionCacheSize?: number): Promise<Harness> {
  let offset = 0
  const app = Fastify()
  t.after(async () => { await app.close() })
  const store = new CookieSessionStore(app, {
    keys: [randomBytes(32)],
    cookieName: 'test_session',
    secureCookies: false,
    sessionMaxAge: MAX_AGE,
    now: () => Date.now() / 1000 + offset,
    ...(sessionCacheSize === undefined ? {} : { sessionCacheSize })
  })
  let lastRead: CognitoSessionData | null = null
  let pending: Partial<CognitoSessionData> = {}
  app.post('/write', async (request, reply) => {
    const now = Math.floor(Date.now() / 1000)
    store.writeSession(request, reply, {
      v: 1,
      sid: randomBytes(16).toString('base64url'),
      sub: 'user-1',
      // Realistic sizes: a 2.5 KB access token, a 3 KB ID token and a 1.8 KB refresh token.
      accessToken: randomBytes(1900).toString('base64url'),
      idToken: randomBytes(2200).toString('base64url'),
      refreshToken: randomBytes(1350).toString('base64url'),
      expiresAt: now + 3600,
      issuedAt: now,
      createdAt: now,
      ...pending
    })
    return { ok: true }
  })
  app.get('/read', async (request) => {
    lastRead = store.readSession(request)
    return { ok: true }
  })
  app.post('/logout', async (request, reply) => {
    store.clearSession(request, reply)
    return { ok: true }
  })
  await app.ready()
  return {
    store,
    advance: (seconds) => { offset += seconds },
    write: async (overrides = {}) => {
      pending = overrides
      const response = await app.inject({ method: 'POST', url: '/write' })
      return new CookieJar().store(response)
    },
    read: async (cookie) => {
      await app.inject({ url: '/read', headers: { cookie } })
      return lastRead
    },
    logout: async (cookie) => { await app.inject({ method: 'POST', url: '/logout', headers: { cookie } }) }
  }
}

function chunks (jar: CookieJar): Array<[string, string]> {
  return [...jar.cookies].filter(([name]) => name.startsWith('test_session.')).sort()
}

test('the session written is cached: requests with those cookies share one frozen object, no decryption', async (t) => {
  const { write, read, store } = await harness(t)
  const jar = await write()
  assert.ok(chunks(jar).length >= 2, 'the session spans several cookies')
  assert.equal(store.cachedSessionCount, 1)
  const first = await read(jar.header)
  assert.ok(first)
  assert.equal(first.sub, 'user-1')
  assert.ok(Object.isFrozen(first))
  assert.throws(() => { (first as { sub: string }).sub = 'mallory' }, TypeError)
  assert.equal(await read(jar.header), first)
})

test('a session decrypted once is cached: the next request with the same cookies is a hit', async (t) => {
  const { write, read, store } = await harness(t, 1)
  const jar = await write()
  const other = await write() // the only slot now holds this one
  assert.equal(store.cachedSessionCount, 1)
  const decrypted = await read(jar.header)
  assert.ok(decrypted)
  assert.equal(await read(jar.header), decrypted, 'cached by the first read')
  const b = await read(other.header)
  assert.ok(b)
  assert.notEqual(b, decrypted)
})

test('a tampered chunk with the same nonce is a miss and fails decryption; the real cookie still hits', async (t) => {
  const { write, read } = await harness(t)
  const jar = await write()
  const original = await read(jar.header)
  const [first, ...rest] = chunks(jar) as [[string, string], ...Array<[string, string]>]
  const flip = (value: string): string => value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11)
  const tampered = [`${first[0]}=${flip(first[1])}`, ...rest.map(([name, value]) => `${name}=${value}`)].join('; ')
  assert.equal(await read(tampered), null)
  const truncated = `${first[0]}=${first[1]}`
  assert.equal(await read(truncated), null)
  assert.equal(await read(jar.header), original)
})

test('the entry expires with the access token: later reads decrypt again and are not cached', async (t) => {
  const { write, read, store, advance } = await harness(t)
  const now = Math.floor(Date.now() / 1000)
  const jar = await write({ expiresAt: now + 60 })
  const cached = await read(jar.header)
  advance(61)
  const later = await read(jar.header)
  assert.ok(later)
  assert.notEqual(later, cached, 'decrypted again')
  assert.equal(store.cachedSessionCount, 0, 'and not kept')
  assert.notEqual(await read(jar.header), later)
})

test('the entry expires with the cookie (sessionMaxAge) even when the access token lives longer', async (t) => {
  const { write, read, store, advance } = await harness(t)
  const jar = await write({ expiresAt: Math.floor(Date.now() / 1000) + 10 * MAX_AGE })
  const cached = await read(jar.header)
  advance(MAX_AGE - 5)
  assert.equal(await read(jar.header), cached)
  advance(10)
  assert.notEqual(await read(jar.header), cached)
  assert.equal(store.cachedSessionCount, 0)
})

test('clearSession (logout) evicts the entry', async (t) => {
  const { write, read, logout, store } = await harness(t)
  const jar = await write()
  const other = await write()
  const cached = await read(jar.header)
  assert.equal(store.cachedSessionCount, 2)
  await logout(jar.header)
  assert.equal(store.cachedSessionCount, 1)
  const replay = await read(jar.header)
  assert.notEqual(replay, cached, 'a copied cookie is decrypted again (and refused by the token check)')
  assert.ok(await read(other.header))
})

test('bounded: sessionCacheSize entries at most', async (t) => {
  const { write, read, store } = await harness(t, 2)
  const jars = [await write(), await write(), await write()]
  assert.equal(store.cachedSessionCount, 2)
  for (const jar of jars) assert.ok(await read(jar.header))
  assert.equal(store.cachedSessionCount, 2)
})

test('sessionCacheSize 0: every read decrypts', async (t) => {
  const { write, read, store } = await harness(t, 0)
  const jar = await write()
  const a = await read(jar.header)
  const b = await read(jar.header)
  assert.ok(a && b)
  assert.notEqual(a, b)
  assert.deepEqual(a, b)
  assert.equal(store.cachedSessionCount, 0)
})

test('no cookie, empty or foreign cookies are no session and cache nothing', async (t) => {
  const { read, store } = await harness(t)
  assert.equal(await read(''), null)
  assert.equal(await read('test_session.0='), null)
  assert.equal(await read('test_session.0=abc.def'), null)
  assert.equal(store.cachedSessionCount, 0)
})
