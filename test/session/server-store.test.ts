import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { ServerSessionStore } from '../../lib/session/server-store.js'
import { formatTicket, newTicketSecret, parseTicket, StoreKeys } from '../../lib/session/store-records.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CognitoSessionStore } from '../../lib/types-store.js'
import { createClock } from '../../lib/util/clock.js'
import { randomToken } from '../../lib/util/random.js'
import { APP_ORIGIN, bearer, capturingLogger, CLIENT_IDS, CookieJar, login, LOGOUT_URI, pluginOptions, REDIRECT_URI, startIdp, type TestOptions } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { unsignedToken } from '../helpers/jwt.js'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'

// ServerSessionStore (server-store.ts): first constructed directly on a real Redis store, with routes that call it,
// for the store's own rules (the ticket cookie, the cache and what invalidates it, writes and deletes); then through
// the plugin with a local Cognito, several apps on one Redis standing for the instances of a fleet.

const MAX_AGE = 3600
const PREFIX = 'test:'
const keys = new StoreKeys(PREFIX)

async function waitFor (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

function setCookies (response: LightMyRequestResponse): string[] {
  const value = response.headers['set-cookie']
  return value === undefined ? [] : Array.isArray(value) ? value : [String(value)]
}

// ---------------------------------------------------------------------------------------------------------------
// The store on its own

interface Direct {
  app: FastifyInstance
  store: ServerSessionStore
  redis: RedisServer
  clock: ManualClock
  revoked: Array<[string, number]>
  /** A new session of `sub` written through the store; the ticket cookie the browser gets. */
  write: (overrides?: Partial<CognitoSessionData>, cookie?: string) => Promise<{ response: LightMyRequestResponse, cookie: string, session: CognitoSessionData }>
  /** The session the store reads for this cookie header (null: none). */
  read: (cookie: string) => Promise<CognitoSessionData | null>
}

function session (clock: ManualClock, overrides: Partial<CognitoSessionData> = {}): CognitoSessionData {
  const now = Math.floor(clock.seconds())
  return {
    v: 1,
    sid: randomToken(),
    sub: 'user-1',
    accessToken: unsignedToken({ sub: 'user-1', jti: randomToken(), origin_jti: randomToken(), exp: now + 3600 }),
    refreshToken: `refresh-${randomToken()}`,
    expiresAt: now + 3600,
    issuedAt: now,
    createdAt: now,
    ...overrides
  }
}

async function direct (t: TestContext, options: { wrap?: (store: CognitoSessionStore) => CognitoSessionStore, sessionCacheSize?: number, secureCookies?: boolean, timeoutMs?: number } = {}): Promise<Direct> {
  const redis = await startRedis(t)
  const real = redisStore({ client: await redis.client(), prefix: PREFIX })
  const clock = manualClock()
  const app = Fastify()
  t.after(async () => { await app.close() })
  const revoked: Array<[string, number]> = []
  const store = new ServerSessionStore(app, {
    store: options.wrap === undefined ? real : options.wrap(real),
    keyPrefix: PREFIX,
    cookieName: 'test_sid',
    legacyChunkPrefix: 'test_session.',
    secretKeys: [randomBytes(32)],
    clientId: 'client',
    secureCookies: options.secureCookies ?? false,
    sessionMaxAge: MAX_AGE,
    sessionCacheSize: options.sessionCacheSize ?? 100,
    timeoutMs: options.timeoutMs ?? 500,
    lockMs: 2000,
    revocationFailOpen: false,
    clock: createClock(clock.now),
    log: app.log,
    revokeLocally: (id, expiresAt) => { revoked.push([id, expiresAt]) }
  })
  let pending: CognitoSessionData | undefined
  app.post('/write', async (request, reply) => {
    await store.writeSession(request, reply, pending as CognitoSessionData)
    return { ok: true }
  })
  app.get('/read', async (request) => {
    const loading = store.loadSession(request)
    if (loading !== undefined) await loading
    assert.equal(store.loadSession(request), undefined, 'loaded once per request')
    return { session: store.readSession(request), ticket: store.ticketOf(request)?.sid ?? null }
  })
  app.post('/clear', async (request, reply) => {
    await store.loadSession(request)
    await store.clearSession(request, reply)
    return { after: store.readSession(request) }
  })
  await app.ready()
  await store.start()
  t.after(async () => { await store.close() })
  return {
    app,
    store,
    redis,
    clock,
    revoked,
    write: async (overrides = {}, cookie) => {
      pending = session(clock, overrides)
      const response = await app.inject({ method: 'POST', url: '/write', headers: cookie === undefined ? {} : { cookie } })
      assert.equal(response.statusCode, 200, response.body)
      const ticket = (response.cookies as Array<{ name: string, value: string }>).find((c) => c.name === 'test_sid')?.value ?? ''
      return { response, cookie: `test_sid=${ticket}`, session: pending }
    },
    read: async (cookie) => {
      const response = await app.inject({ url: '/read', headers: { cookie } })
      assert.equal(response.statusCode, 200, response.body)
      return (response.json() as { session: CognitoSessionData | null }).session
    }
  }
}

test('writeSession: the session sealed under its id for the rest of its lifetime, indexed under its user; the browser gets the ticket', async (t) => {
  const { redis, write, read, store, clock } = await direct(t)
  const client = await redis.client()
  const { response, cookie, session: written } = await write()
  const [line] = setCookies(response)
  const ticket = parseTicket(cookie.slice('test_sid='.length))
  assert.ok(ticket !== undefined)
  assert.equal(ticket.sid, written.sid)
  assert.equal(line, `${cookie}; Max-Age=${MAX_AGE}; Path=/; HttpOnly; SameSite=Lax`)

  const value = await client.get(keys.session(written.sid))
  assert.ok(value !== null)
  assert.equal(value.includes(written.refreshToken as string), false, 'sealed')
  assert.equal(await client.ttl(keys.session(written.sid)), MAX_AGE)
  assert.deepEqual(await client.sMembers(keys.userSessions('user-1')), [written.sid])
  assert.equal(await client.ttl(keys.userSessions('user-1')), MAX_AGE)
  assert.deepEqual(await read(cookie), written)
  assert.equal(store.cachedSessionCount, 1, 'kept in memory from the write on')

  // A session signed in earlier lives only what is left of its maximum age (at least a second).
  const older = await write({ createdAt: Math.floor(clock.seconds()) - (MAX_AGE - 600) })
  assert.match(setCookies(older.response)[0] ?? '', /; Max-Age=600;/)
  assert.equal(await client.ttl(keys.session(older.session.sid)), 600)
  const outlived = await write({ createdAt: Math.floor(clock.seconds()) - MAX_AGE - 10 })
  assert.match(setCookies(outlived.response)[0] ?? '', /; Max-Age=1;/)
})

test('secure cookies: the ticket cookie is Secure', async (t) => {
  const { write } = await direct(t, { secureCookies: true })
  const { response } = await write()
  assert.match(setCookies(response)[0] ?? '', /; HttpOnly; Secure; SameSite=Lax$/)
})

test('sign-in clears the session chunks of the cookie store the browser still sends, and nothing else', async (t) => {
  const { write } = await direct(t)
  const { response } = await write({}, 'test_session.0=aaa; test_session.2=ccc; test_session.x=y; other=1; test_sid=old')
  const lines = setCookies(response)
  assert.equal(lines.length, 3)
  assert.match(lines[0] ?? '', /^test_sid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Max-Age=3600;/)
  assert.deepEqual(lines.slice(1), [
    'test_session.0=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax',
    'test_session.2=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'
  ])
  const { response: clean } = await write()
  assert.equal(setCookies(clean).length, 1, 'no chunks sent: only the ticket')
})

test('loadSession: no ticket, or not one of ours, is no session without a store call; a ticket is read once, then from memory', async (t) => {
  let gets = 0
  const { write, read, store, app } = await direct(t, { wrap: (real) => ({ ...real, get: async (key) => { gets++; return await real.get(key) } }) })
  for (const cookie of ['', 'other=1', 'test_sid=', 'test_sid=garbage', `test_sid=${randomToken()}.${randomToken()}x`]) {
    assert.equal(await read(cookie), null, cookie)
  }
  assert.equal(gets, 0, 'nothing that is no ticket reaches the store')

  const { cookie, session: written } = await write()
  assert.deepEqual(await read(cookie), written)
  assert.equal(gets, 0, 'the write is remembered')
  store.events.live = false
  assert.deepEqual(await read(cookie), written)
  assert.equal(gets, 1, 'not live: the memory is not trusted, the store is read')
  store.events.live = true

  const other = await write()
  const response = await app.inject({ url: '/read', headers: { cookie: other.cookie } })
  assert.equal(response.json<{ ticket: string }>().ticket, other.session.sid, 'ticketOf: the ticket of the loaded session')
})

test('a ticket with the right id and another secret is no session, whether the session is in memory or not', async (t) => {
  const { write, read, store } = await direct(t)
  const { cookie, session: written } = await write()
  const forged = `test_sid=${formatTicket({ sid: written.sid, secret: newTicketSecret() })}`
  assert.equal(store.cachedSessionCount, 1)
  assert.equal(await read(forged), null, 'in memory: the secret is compared')
  store.events.live = false
  assert.equal(await read(forged), null, 'from the store: the secret does not open it')
  store.events.live = true
  assert.deepEqual(await read(cookie), written, 'the real ticket still works')
})

test('a stored value moved under another session id is refused (it names its own sid)', async (t) => {
  const { redis, write, read } = await direct(t)
  const client = await redis.client()
  const { cookie, session: written } = await write()
  const ticket = parseTicket(cookie.slice('test_sid='.length))
  assert.ok(ticket !== undefined)
  const otherSid = randomToken()
  await client.set(keys.session(otherSid), await client.get(keys.session(written.sid)) ?? '')
  assert.equal(await read(`test_sid=${formatTicket({ sid: otherSid, secret: ticket.secret })}`), null)
})

test('sessionCacheSize 0: every request reads the store, and a session deleted from the store is gone at once', async (t) => {
  let gets = 0
  const { redis, write, read, store } = await direct(t, { sessionCacheSize: 0, wrap: (real) => ({ ...real, get: async (key) => { gets++; return await real.get(key) } }) })
  const { cookie, session: written } = await write()
  assert.equal(store.cachedSessionCount, 0)
  assert.deepEqual(await read(cookie), written)
  assert.deepEqual(await read(cookie), written)
  assert.equal(gets, 2)
  await (await redis.client()).del(keys.session(written.sid))
  assert.equal(await read(cookie), null)
})

test('clearSession: deleted from the store and its user\'s index, announced, the cookie cleared; without a session only the cookie', async (t) => {
  const { redis, write, read, app, store } = await direct(t)
  const client = await redis.client()
  const { cookie, session: written } = await write()
  const other = await write()
  const announced: string[] = []
  const subscriber = client.duplicate()
  subscriber.on('error', () => {})
  await subscriber.connect()
  t.after(() => { if (subscriber.isOpen) subscriber.destroy() })
  await subscriber.subscribe(keys.channel, (message) => { announced.push(message) })

  const response = await app.inject({ method: 'POST', url: '/clear', headers: { cookie } })
  assert.equal(response.statusCode, 200, response.body)
  assert.deepEqual(response.json(), { after: null })
  assert.deepEqual(setCookies(response), ['test_sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'])
  assert.equal(await client.exists(keys.session(written.sid)), 0)
  assert.deepEqual(await client.sMembers(keys.userSessions('user-1')), [other.session.sid])
  await waitFor('the announcement', () => announced.length === 1)
  // `i` names the announcing instance, which skips its own announcements.
  const { i: instance, ...message } = JSON.parse(announced[0] ?? '') as Record<string, unknown>
  assert.deepEqual(message, { t: 'end', sid: written.sid })
  assert.equal(typeof instance, 'string')
  assert.equal(store.hasEnded(written), true)
  assert.equal(store.hasEnded(other.session), false)
  assert.equal(await read(cookie), null)

  const none = await app.inject({ method: 'POST', url: '/clear', headers: { cookie: 'other=1' } })
  assert.deepEqual(setCookies(none), ['test_sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'])
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(announced.length, 1, 'nothing to announce without a session')
  await subscriber.close()
})

test('a session ended here is never remembered again, whatever copy of it comes back', async (t) => {
  const { write, store } = await direct(t)
  const { cookie, session: written } = await write()
  const ticket = parseTicket(cookie.slice('test_sid='.length))
  assert.ok(ticket !== undefined)
  await store.endStored(written.sid, written.sub)
  assert.equal(store.cachedSessionCount, 0)
  store.remember(ticket, written)
  assert.equal(store.cachedSessionCount, 0, 'a late refresh result is not cached')
  assert.equal(store.hasEnded(written), true)
})

test('a read that began before an announcement is not remembered; a copy of a session announced as ended is refused', async (t) => {
  const gate: { hold: boolean, waiting: Array<() => void> } = { hold: false, waiting: [] }
  const { write, read, store, redis } = await direct(t, {
    wrap: (real) => ({
      ...real,
      get: async (key) => {
        const value = await real.get(key)
        if (gate.hold) await new Promise<void>((resolve) => { gate.waiting.push(resolve) })
        return value
      }
    })
  })
  const client = await redis.client()
  const { cookie, session: written } = await write()
  // Forget it here: as on an instance that has not read it yet.
  await client.publish(keys.channel, JSON.stringify({ t: 'refresh', sid: written.sid }))
  await waitFor('the refresh to drop the copy', () => store.cachedSessionCount === 0)

  gate.hold = true
  const reading = read(cookie)
  await waitFor('the read to be under way', () => gate.waiting.length === 1)
  const epoch = store.events.epoch
  await client.publish(keys.channel, JSON.stringify({ t: 'refresh', sid: 'some-other-session' }))
  await waitFor('the announcement', () => store.events.epoch > epoch)
  gate.hold = false
  gate.waiting.shift()?.()
  assert.deepEqual(await reading, written, 'the value read is this request\'s session...')
  assert.equal(store.cachedSessionCount, 0, '...but not remembered: it may be older than the announcement')
  assert.deepEqual(await read(cookie), written)
  assert.equal(store.cachedSessionCount, 1, 'the next read is remembered')

  // Now a read under way while the session is announced as ended: the value it got is refused.
  await client.publish(keys.channel, JSON.stringify({ t: 'refresh', sid: written.sid }))
  await waitFor('the copy to be dropped', () => store.cachedSessionCount === 0)
  gate.hold = true
  const late = read(cookie)
  await waitFor('the read to be under way', () => gate.waiting.length === 1)
  await client.publish(keys.channel, JSON.stringify({ t: 'end', sid: written.sid }))
  await waitFor('the end', () => store.hasEnded(written))
  gate.hold = false
  gate.waiting.shift()?.()
  assert.equal(await late, null)
})

test('the store failing: a read, a write and a clear answer the 503, and a failed write or clear leaves the cookie alone', async (t) => {
  const { write, redis, app, store } = await direct(t, { timeoutMs: 100 })
  const { cookie } = await write()
  store.events.live = false
  redis.pause()
  t.after(() => { redis.resume() })
  const read = await app.inject({ url: '/read', headers: { cookie } })
  assert.equal(read.statusCode, 503)
  assert.equal(read.headers['retry-after'], '1')
  assert.equal(read.json<{ code: string }>().code, 'FST_COGNITO_SESSION_STORE_UNAVAILABLE')
  const writing = await app.inject({ method: 'POST', url: '/write' })
  assert.equal(writing.statusCode, 503)
  assert.deepEqual(setCookies(writing), [], 'no ticket for a session that was not stored')
  store.events.live = true
  const clearing = await app.inject({ method: 'POST', url: '/clear', headers: { cookie } })
  assert.equal(clearing.statusCode, 503, 'the session is in memory, its deletion fails')
  assert.deepEqual(setCookies(clearing), [], 'the cookie is left: the user may retry')
})

test('shareRefresh needs the session loaded from the store first', async (t) => {
  const { store, clock } = await direct(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  app.post('/share', async (request) => await store.shareRefresh(request, session(clock), async () => { throw new Error('not reached') }))
  const response = await app.inject({ method: 'POST', url: '/share' })
  assert.equal(response.statusCode, 503)
  assert.equal(response.json<{ message: string }>().message, 'The session was not loaded from the store')
})

test('endUserSessions: every session of the user ends; the envelopes of those that still open come back', async (t) => {
  const { redis, write, read, store, clock } = await direct(t)
  const client = await redis.client()
  const first = await write()
  const second = await write({ refreshToken: undefined, accessToken: unsignedToken({ jti: 'only-jti' }) })
  const bob = await write({ sub: 'bob' })
  // Members whose value expired, or is not ours: ended too, with no envelope.
  await client.sAdd(keys.userSessions('user-1'), [randomToken(), 'not-a-sid'])
  await client.set(keys.session('not-a-sid'), 'garbage')

  const envelopes = await store.endUserSessions('user-1')
  const now = Math.floor(clock.seconds())
  assert.deepEqual(envelopes.sort((a, b) => String(a.refreshToken).localeCompare(String(b.refreshToken))), [
    { refreshToken: first.session.refreshToken, revocationId: parseClaims(first.session.accessToken).origin_jti, expiresAt: now + 3600 },
    { refreshToken: undefined, revocationId: 'only-jti', expiresAt: now + 3600 }
  ].sort((a, b) => String(a.refreshToken).localeCompare(String(b.refreshToken))))
  assert.equal(await read(first.cookie), null)
  assert.equal(await read(second.cookie), null)
  assert.equal(await client.exists([keys.session(first.session.sid), keys.session(second.session.sid), keys.session('not-a-sid'), keys.userSessions('user-1')]), 0)
  assert.deepEqual(await read(bob.cookie), bob.session, 'another user\'s session is left alone')
  assert.deepEqual(await store.endUserSessions('nobody'), [])
})

function parseClaims (token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------------------------
// Through the plugin: several apps on one Redis

interface Fleet {
  idp: LocalCognito
  redis: RedisServer
  /** The access tokens the apps signed in with, in order (onLogin). */
  accessTokens: string[]
  build: (overrides?: Partial<TestOptions>, wrap?: (store: CognitoSessionStore) => CognitoSessionStore) => Promise<FastifyInstance>
}

async function fleet (t: TestContext, redisOptions?: { persistence?: boolean }): Promise<Fleet> {
  const idp = await startIdp(t)
  const redis = await startRedis(t, redisOptions)
  const accessTokens: string[] = []
  return {
    idp,
    redis,
    accessTokens,
    build: async (overrides = {}, wrap) => {
      const real = redisStore({ client: await redis.client() })
      const app = Fastify()
      t.after(async () => { await app.close() })
      await app.register(fastifyCognito, pluginOptions(idp, 'public', {
        sessionStore: wrap === undefined ? real : wrap(real),
        onLogin: (_request, { tokens }) => { accessTokens.push(tokens.accessToken) },
        ...overrides
      }))
      app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub ?? null }))
      app.get('/maybe', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({ sub: request.user?.sub ?? null }))
      app.get('/check', async (request) => ({ signedIn: await request.cognito.isAuthenticated() }))
      app.post('/end/:sub', async (request) => ({ ended: await app.cognito.endSessions((request.params as { sub: string }).sub) }))
      app.post('/logout-everywhere', async (request, reply) => await request.cognito.logoutEverywhere(reply))
      await app.ready()
      return app
    }
  }
}

async function me (app: FastifyInstance, jar: CookieJar): Promise<LightMyRequestResponse> {
  return await app.inject({ url: '/me', headers: { cookie: jar.header } })
}

test('through the plugin: one small ticket cookie; the session is stored under the default prefix; every instance reads it', async (t) => {
  const { idp, redis, build } = await fleet(t)
  const a = await build()
  const b = await build()
  const { jar, callback } = await login(a, idp)
  assert.equal(callback.statusCode, 302)
  assert.deepEqual([...jar.cookies.keys()], ['cognito_sid'])
  assert.equal(jar.header.length, 'cognito_sid='.length + 87)
  const sid = (jar.cookies.get('cognito_sid') ?? '').slice(0, 43)
  const client = await redis.client()
  assert.equal(await client.exists(`fastify-cognito:${CLIENT_IDS.public}:s:{${sid}}`), 1)
  for (const app of [a, b]) {
    const response = await me(app, jar)
    assert.equal(response.statusCode, 200, response.body)
    assert.equal(response.json<{ sub: string }>().sub, idp.users[0]?.sub)
  }
  assert.deepEqual((await b.inject({ url: '/maybe', headers: { cookie: jar.header } })).json(), { sub: idp.users[0]?.sub })
  assert.deepEqual((await b.inject({ url: '/maybe' })).json(), { sub: null })
  assert.deepEqual((await b.inject({ url: '/check', headers: { cookie: jar.header } })).json(), { signedIn: true })
})

test('through the plugin: the store\'s keyPrefix names the keys', async (t) => {
  const { idp, redis, build } = await fleet(t)
  const app = await build({}, (real) => ({ ...real, keyPrefix: 'myapp:' }))
  const { jar } = await login(app, idp)
  const sid = (jar.cookies.get('cognito_sid') ?? '').slice(0, 43)
  assert.equal(await (await redis.client()).exists(`myapp:s:{${sid}}`), 1)
  assert.equal((await me(app, jar)).statusCode, 200)
})

test('through the plugin: a logout on one instance ends the session on every instance at once, its tokens refused everywhere', async (t) => {
  const { idp, build, accessTokens } = await fleet(t)
  const a = await build()
  const b = await build()
  const c = await build()
  const { jar } = await login(a, idp)
  const accessToken = accessTokens[0] as string
  for (const app of [a, b]) assert.equal((await me(app, jar)).statusCode, 200, 'read, and kept in memory')
  assert.equal((await b.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 200)

  const out = await c.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.ok(setCookies(out).some((line) => line.startsWith('cognito_sid=;')))
  for (const app of [a, b]) {
    await waitFor('the end to reach every instance', async () => (await me(app, jar)).statusCode === 401)
    await waitFor('the revocation to reach every instance', async () => (await app.inject({ url: '/me', headers: bearer(accessToken) })).statusCode === 401)
  }
  assert.equal(idp.requests.revoke, 1, 'the refresh token is revoked at Cognito')

  const later = await build()
  assert.equal((await later.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 401, 'an instance started later loads the signed-out token')
})

test('through the plugin: endSessions(sub) ends every session of the user on every device; others are left alone', async (t) => {
  const { idp, build, accessTokens } = await fleet(t)
  const a = await build()
  const b = await build()
  const laptop = await login(a, idp)
  const phone = await login(b, idp)
  const bob = await login(a, idp, { username: 'bob' })
  const aliceSub = idp.users[0]?.sub as string
  const ended = await b.inject({ method: 'POST', url: `/end/${aliceSub}` })
  assert.deepEqual(ended.json(), { ended: 2 })
  for (const app of [a, b]) {
    for (const jar of [laptop.jar, phone.jar]) await waitFor('the end', async () => (await me(app, jar)).statusCode === 401)
    for (const token of accessTokens.slice(0, 2)) await waitFor('the revocation', async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 401)
    assert.equal((await me(app, bob.jar)).statusCode, 200)
  }
  assert.equal(idp.requests.revoke, 2)
  assert.deepEqual((await a.inject({ method: 'POST', url: `/end/${aliceSub}` })).json(), { ended: 0 })
})

test('through the plugin: logoutEverywhere signs this device out and every other one', async (t) => {
  const { idp, build } = await fleet(t)
  const a = await build()
  const b = await build()
  const laptop = await login(a, idp)
  const phone = await login(b, idp)
  const response = await a.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: laptop.jar.header, origin: APP_ORIGIN } })
  assert.equal(response.statusCode, 302, response.body)
  for (const app of [a, b]) {
    for (const jar of [laptop.jar, phone.jar]) await waitFor('the end', async () => (await me(app, jar)).statusCode === 401)
  }
})

test('endSessions and logoutEverywhere need a server-side store; endSessions a sub', async (t) => {
  const { idp, build } = await fleet(t)
  const withStore = await build()
  assert.equal((await withStore.inject({ method: 'POST', url: '/end/%20' })).statusCode, 200, 'a sub nobody has: none ended')
  await assert.rejects(withStore.cognito.endSessions(''), { code: 'FST_COGNITO_INVALID_OPTION', message: 'fastify-cognito: endSessions(sub) needs the user\'s "sub"' })
  await assert.rejects(withStore.cognito.endSessions(42 as unknown as string), { code: 'FST_COGNITO_INVALID_OPTION' })

  const cookies = Fastify()
  t.after(async () => { await cookies.close() })
  await cookies.register(fastifyCognito, pluginOptions(idp, 'public'))
  cookies.post('/logout-everywhere', async (request, reply) => await request.cognito.logoutEverywhere(reply))
  await cookies.ready()
  await assert.rejects(cookies.cognito.endSessions('x'), { code: 'FST_COGNITO_INVALID_OPTION', message: 'fastify-cognito: endSessions() needs browser sign-in with a server-side session store (option "sessionStore")' })
  const response = await cookies.inject({ method: 'POST', url: '/logout-everywhere', headers: { origin: APP_ORIGIN } })
  assert.equal(response.statusCode, 500)
  assert.equal(response.json<{ code: string }>().code, 'FST_COGNITO_INVALID_OPTION')
})

test('through the plugin: Redis down answers 503 with Retry-After and keeps the cookie; the session is back with Redis', async (t) => {
  const { idp, redis, build } = await fleet(t, { persistence: true })
  const app = await build({ sessionStoreTimeout: 100 })
  const { jar } = await login(app, idp)
  assert.equal((await me(app, jar)).statusCode, 200)
  await redis.stop()
  await waitFor('the 503', async () => (await me(app, jar)).statusCode === 503)
  const down = await me(app, jar)
  assert.equal(down.headers['retry-after'], '1')
  assert.equal(down.json<{ code: string }>().code, 'FST_COGNITO_SESSION_STORE_UNAVAILABLE')
  assert.deepEqual(setCookies(down), [], 'never a sign-out')
  const optional = await app.inject({ url: '/maybe', headers: { cookie: jar.header } })
  assert.equal(optional.statusCode, 503, 'an optional guard cannot tell whether there is a session either')
  const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(logout.statusCode, 503)
  assert.deepEqual(setCookies(logout), [], 'a logout that could not end the session clears nothing')
  assert.equal((await app.inject({ url: '/maybe' })).statusCode, 200, 'no cookie: anonymous, no store call')

  await redis.start()
  await waitFor('the session to be back', async () => (await me(app, jar)).statusCode === 200)
})

test('through the plugin: a store down when the app starts does not keep it from starting; requests are refused until the list loads', async (t) => {
  const { idp, redis } = await fleet(t)
  const client = await redis.client()
  await redis.stop()
  const { logger, lines } = capturingLogger('warn')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { sessionStore: redisStore({ client }), sessionStoreTimeout: 50 }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({ ok: true }))
  const started = Date.now()
  await app.ready()
  assert.ok(Date.now() - started < 5000, 'started, bounded')
  const refused = await app.inject({ url: '/me' })
  assert.equal(refused.statusCode, 503)
  assert.equal(refused.json<{ message: string }>().message, 'The list of signed-out tokens is not loaded from the session store yet: retry shortly')
  assert.ok(lines.length > 0)
  await redis.start()
  await waitFor('the list to load', async () => (await app.inject({ url: '/me' })).statusCode === 401, 15_000)
})

test('through the plugin: revocationFailOpen lets requests through while the list is not loaded', async (t) => {
  const { idp, redis } = await fleet(t)
  const client = await redis.client()
  await redis.stop()
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { sessionStore: redisStore({ client }), sessionStoreTimeout: 20, revocationFailOpen: true }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async () => ({ ok: true }))
  await app.ready()
  assert.equal((await app.inject({ url: '/me' })).statusCode, 401, 'no credentials: the usual 401, not a 503')
})

test('through the plugin: a sign-in the store cannot keep answers 503, sets no ticket, and revokes the new refresh token', async (t) => {
  const { idp, build } = await fleet(t)
  let failing = false
  const app = await build({}, (real) => ({ ...real, create: async (key, value, ttl) => { if (failing) throw new Error('OOM command not allowed'); await real.create(key, value, ttl) } }))
  failing = true
  const { callback, jar } = await login(app, idp)
  assert.equal(callback.statusCode, 503)
  assert.equal(jar.cookies.has('cognito_sid'), false)
  assert.equal(idp.requests.revoke, 1)
})

test('through the plugin: an optional guard with the ticket of a session that has ended lets the request through as anonymous', async (t) => {
  const { idp, build } = await fleet(t)
  const app = await build()
  const { jar } = await login(app, idp)
  assert.deepEqual((await app.inject({ url: '/maybe', headers: { cookie: jar.header } })).json(), { sub: idp.users[0]?.sub })
  const stale = jar.clone()
  const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302)
  const response = await app.inject({ url: '/maybe', headers: { cookie: stale.header } })
  assert.equal(response.statusCode, 200, response.body)
  assert.deepEqual(response.json(), { sub: null })
})

test('through the plugin: tokens without jti or origin_jti (revocation off at Cognito): the logout ends the session, with no id to announce', async (t) => {
  const idp = await startIdp(t, {
    clients: [{ clientId: CLIENT_IDS.public, callbackUrls: [REDIRECT_URI], logoutUrls: [LOGOUT_URI], enableTokenRevocation: false }]
  })
  const redis = await startRedis(t)
  const client = await redis.client()
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { sessionStore: redisStore({ client }) }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ jti: request.tokenPayload?.jti ?? null }))
  await app.ready()
  const { jar } = await login(app, idp)
  assert.deepEqual((await me(app, jar)).json(), { jti: null })
  const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.equal((await me(app, jar)).statusCode, 401)
  assert.equal(await client.exists(`fastify-cognito:${CLIENT_IDS.public}:revoked`), 0, 'nothing to refuse by id')
})

test('through the plugin: a store fault after the session was deleted at logout still revokes the refresh token at Cognito', async (t) => {
  const { idp, build } = await fleet(t)
  let publishFails = false
  const refreshTokens: string[] = []
  const app = await build({ onLogin: (_request, { tokens }) => { refreshTokens.push(tokens.refreshToken ?? '') } }, (real) => ({
    ...real,
    publish: async (channel, message) => {
      if (publishFails) throw new Error('connection reset')
      await real.publish(channel, message)
    }
  }))
  const { jar } = await login(app, idp)
  publishFails = true
  const failed = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(failed.statusCode, 503, 'the session is deleted, announcing it failed')
  publishFails = false
  const retried = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(retried.statusCode, 302, 'the retry finds no session left to end')
  assert.equal(idp.requests.revoke, 1, 'the refresh token was revoked all the same')
  const grant = await fetch(`${idp.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_IDS.public, refresh_token: refreshTokens[0] as string })
  })
  assert.equal(grant.status, 400, 'no new tokens for the refresh token of a signed-out session')
})
