import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { CookieSessionStore } from '../../lib/session/cookie-store.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { buildApp, CookieJar, flipCharacter, login, MANY_GROUPS, SECURE_REDIRECT_URI, startIdp } from '../helpers/app.js'

const MAX_AGE = 3600

interface Harness {
  /** Writes a session with a large payload (several cookie chunks) and returns the browser's cookie jar. */
  write: (overrides?: Partial<CognitoSessionData>) => Promise<CookieJar>
  /** Reads the session of a request with these cookies (twice in the same request when `twice`). */
  read: (cookie: string) => Promise<CognitoSessionData | null>
  logout: (cookie: string) => Promise<void>
  /** The raw answer of a write sent with these cookies. */
  writeResponse: (overrides?: Partial<CognitoSessionData>, cookie?: string) => Promise<LightMyRequestResponse>
  store: CookieSessionStore
  advance: (seconds: number) => void
  app: FastifyInstance
}

async function harness (t: TestContext, sessionCacheSize?: number, secureCookies = false): Promise<Harness> {
  let offset = 0
  const app = Fastify()
  t.after(async () => { await app.close() })
  const store = new CookieSessionStore(app, {
    keys: [randomBytes(32)],
    cookieName: 'test_session',
    secureCookies,
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
  app.post('/write-then-read', async (request, reply) => {
    const before = store.readSession(request)
    const now = Math.floor(Date.now() / 1000)
    const session = { v: 1 as const, sid: 'written', sub: 'user-2', accessToken: 'a.b.c', expiresAt: now + 60, issuedAt: now, createdAt: now }
    store.writeSession(request, reply, session)
    const after = store.readSession(request)
    store.clearSession(request, reply)
    return { before: before?.sub ?? null, after: after === session, cleared: store.readSession(request) }
  })
  app.post('/write-large-then-clear', async (request, reply) => {
    const now = Math.floor(Date.now() / 1000)
    store.writeSession(request, reply, { v: 1, sid: 'large', sub: 'user-3', accessToken: randomBytes(4000).toString('base64url'), expiresAt: now + 60, issuedAt: now, createdAt: now })
    store.clearSession(request, reply)
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
    writeResponse: async (overrides = {}, cookie = '') => {
      pending = overrides
      return await app.inject({ method: 'POST', url: '/write', headers: { cookie } })
    },
    app,
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
  const tampered = [`${first[0]}=${flipCharacter(first[1])}`, ...rest.map(([name, value]) => `${name}=${value}`)].join('; ')
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

test('no cookie exceeds 4096 bytes with 40 groups and a 1.8 KB refresh token, and the session works', async (t) => {
  const idp = await startIdp(t, {
    users: [{
      username: 'carol',
      password: 'carol-password-1',
      email: 'carol.with.a.rather.long.address@subsidiary.example.com',
      groups: MANY_GROUPS,
      attributes: { 'custom:tenant': 'acme-corporation-emea', 'custom:roles': 'reader,writer,approver' }
    }]
  })
  const app = await buildApp(t, idp, 'confidential', { redirectUri: SECURE_REDIRECT_URI })
  const { callback, jar } = await login(app, idp, { username: 'carol' })
  const setCookies = [callback.headers['set-cookie']].flat().filter((c): c is string => typeof c === 'string')
  const total = setCookies.reduce((sum, cookie) => sum + cookie.length, 0)
  assert.ok(total > 4096, `the tokens are realistic: ${total} bytes of cookies in all`)
  for (const cookie of setCookies) assert.ok(Buffer.byteLength(cookie) <= 4096, `${cookie.slice(0, 30)}... is ${Buffer.byteLength(cookie)} bytes`)
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.groups.length, 40)
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 200)
  for (const cookie of [refresh.headers['set-cookie']].flat()) assert.ok(Buffer.byteLength(String(cookie)) <= 4096)
})

test('the cookie name is the store\'s; chunks are <name>.N, HttpOnly, SameSite=Lax, Max-Age of the session, Secure when asked', async (t) => {
  const { store, writeResponse } = await harness(t, undefined, true)
  assert.equal(store.cookieName, 'test_session')
  const response = await writeResponse()
  const cookies = [response.headers['set-cookie']].flat().map(String)
  assert.ok(cookies.length >= 2)
  cookies.forEach((cookie, i) => {
    assert.match(cookie, new RegExp(`^test_session\\.${i}=[A-Za-z0-9_.-]+; Max-Age=${MAX_AGE}; Path=/; HttpOnly; Secure; SameSite=Lax$`))
    assert.ok(cookie.length <= 3800 + 100)
  })
})

test('a session over the cookie budget (two cookies by default) is refused: 500 FST_COGNITO_SESSION_TOO_LARGE, no cookie', async (t) => {
  const { writeResponse } = await harness(t)
  const response = await writeResponse({ data: { blob: randomBytes(30_000).toString('base64url') } })
  assert.equal(response.statusCode, 500)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_TOO_LARGE')
  assert.equal(response.headers['set-cookie'], undefined)
})

test('a smaller session deletes the chunks the browser has beyond it, also past a gap', async (t) => {
  const { writeResponse } = await harness(t)
  const response = await writeResponse({ accessToken: 'a.b.c', idToken: undefined, refreshToken: undefined }, 'test_session.0=x; test_session.1=y; test_session.3=z; other=1')
  const cookies = [response.headers['set-cookie']].flat().map(String)
  assert.equal(cookies.length, 3)
  assert.match(cookies[0] as string, /^test_session\.0=[^;]+; Max-Age=3600/)
  assert.match(cookies[1] as string, /^test_session\.1=; Max-Age=0; Expires=Thu, 01 Jan 1970/)
  assert.match(cookies[2] as string, /^test_session\.3=; Max-Age=0/)
})

test('within one request: a written session is what the next read sees, a cleared one is null', async (t) => {
  const { write, app } = await harness(t)
  const jar = await write()
  const response = await app.inject({ method: 'POST', url: '/write-then-read', headers: { cookie: jar.header } })
  assert.deepEqual(response.json(), { before: 'user-1', after: true, cleared: null })
  const cookies = [response.headers['set-cookie']].flat().map(String)
  assert.ok(cookies.every((cookie) => /Max-Age=0/.test(cookie)), 'the last word of the request, a clear, is what goes out')
})

test('within one request: clearing after a write of more chunks than the browser sent clears those chunks too', async (t) => {
  const { app } = await harness(t)
  // The browser has a one-chunk session; the request writes a two-chunk one (a guard's refresh), then clears it (logout).
  const response = await app.inject({ method: 'POST', url: '/write-large-then-clear', headers: { cookie: 'test_session.0=x' } })
  const cookies = [response.headers['set-cookie']].flat().map(String)
  assert.ok(cookies.length >= 2)
  assert.ok(cookies.every((cookie) => /Max-Age=0/.test(cookie)), cookies.map((cookie) => cookie.slice(0, 40)).join(' | '))
})

test('clearSession without session cookies sets no cookie', async (t) => {
  const { app } = await harness(t)
  const response = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: 'other=1' } })
  assert.equal(response.headers['set-cookie'], undefined)
})

test('without a clock of its own the store uses the real one, and caches as usual', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  const store = new CookieSessionStore(app, { keys: [randomBytes(32)], cookieName: 'plain_session', secureCookies: false, sessionMaxAge: MAX_AGE })
  const now = Math.floor(Date.now() / 1000)
  app.post('/write', async (request, reply) => { store.writeSession(request, reply, { v: 1, sid: 's', sub: 'u', accessToken: 'a.b.c', expiresAt: now + 60, issuedAt: now, createdAt: now }); return {} })
  app.get('/read', async (request) => ({ sub: store.readSession(request)?.sub ?? null }))
  const jar = new CookieJar().store(await app.inject({ method: 'POST', url: '/write' }))
  assert.equal(store.cachedSessionCount, 1)
  assert.deepEqual((await app.inject({ url: '/read', headers: { cookie: jar.header } })).json(), { sub: 'u' })
})
