import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'
import { StoreKeys } from '../../lib/session/store-records.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CognitoSessionStore } from '../../lib/types-store.js'
import { APP_ORIGIN, CLIENT_IDS, type CookieJar, login, pluginOptions, startIdp, type TestOptions } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'

// One refresh per session across the fleet (shared-refresh.ts): several apps on one Redis and one local Cognito,
// sharing one manual clock. Each scenario holds one store call of one instance back (a hand-written wrapper around
// the real store) to put the instances' steps in the order it needs; everything else is real.

const keys = new StoreKeys(`fastify-cognito:${CLIENT_IDS.public}:`)
/** httpTimeout 500 and sessionStoreTimeout 100: a refresh lock of 2 x 500 + 4 x 100 + 1000 ms. */
const LOCK_MS = 2400

interface Fleet {
  idp: LocalCognito
  redis: RedisServer
  clock: ManualClock
  build: (overrides?: Partial<TestOptions>, wrap?: (store: CognitoSessionStore) => CognitoSessionStore) => Promise<FastifyInstance>
}

async function fleet (t: TestContext): Promise<Fleet> {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const redis = await startRedis(t)
  return {
    idp,
    redis,
    clock,
    build: async (overrides = {}, wrap) => {
      const real = redisStore({ client: await redis.client() })
      const app = Fastify()
      t.after(async () => { await app.close() })
      await app.register(fastifyCognito, pluginOptions(idp, 'public', {
        now: clock.now,
        httpTimeout: 500,
        sessionStoreTimeout: 100,
        sessionStore: wrap === undefined ? real : wrap(real),
        ...overrides
      }))
      app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ jti: request.tokenPayload?.jti, exp: request.tokenPayload?.exp }))
      await app.ready()
      return app
    }
  }
}

/** A store call that waits, each time it is made, until the test lets it go. */
class Gate {
  readonly #waiting: Array<() => void> = []
  calls = 0

  async pass (): Promise<void> {
    this.calls++
    await new Promise<void>((resolve) => { this.#waiting.push(resolve) })
  }

  get waiting (): number {
    return this.#waiting.length
  }

  open (): void {
    for (const go of this.#waiting.splice(0)) go()
  }
}

async function waitFor (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function me (app: FastifyInstance, jar: CookieJar): Promise<LightMyRequestResponse> {
  return await app.inject({ url: '/me', headers: { cookie: jar.header } })
}

interface Claims { jti: string, exp: number }

function claims (response: LightMyRequestResponse): Claims {
  assert.equal(response.statusCode, 200, response.body)
  return response.json<Claims>()
}

function sidOf (jar: CookieJar): string {
  return (jar.cookies.get('cognito_sid') ?? '').slice(0, 43)
}

/** Moves the clock `step` seconds every few real milliseconds while `work` runs: a deadline passes without sleeping. */
async function whileTimePasses<T> (clock: ManualClock, step: number, work: Promise<T>): Promise<T> {
  const ticker = setInterval(() => { clock.advance(step) }, 5)
  try {
    return await work
  } finally {
    clearInterval(ticker)
  }
}

test('one refresh for the whole fleet: concurrent requests on three instances call Cognito once and all get the new token', async (t) => {
  const { idp, clock, build } = await fleet(t)
  const [a, b, c] = [await build(), await build(), await build()]
  const { jar } = await login(a, idp)
  const before = claims(await me(b, jar))
  claims(await me(c, jar))
  clock.advance(3601)

  const responses = await Promise.all([me(a, jar), me(b, jar), me(c, jar), me(a, jar), me(b, jar)])
  const after = responses.map(claims)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.notEqual(after[0]?.jti, before.jti)
  for (const each of after) assert.deepEqual(each, after[0])
  for (const response of responses) assert.equal(response.headers['set-cookie'], undefined, 'the ticket stays the same: no cookie to send')

  const later = await build()
  assert.deepEqual(claims(await me(later, jar)), after[0], 'stored for the instances to come')
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('POST /refresh on one instance: the others drop their copy and use the new tokens without a refresh of their own', async (t) => {
  const { idp, build } = await fleet(t)
  const a = await build()
  const b = await build()
  const { jar } = await login(a, idp)
  const before = claims(await me(b, jar))
  const refreshed = await a.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(refreshed.statusCode, 200, refreshed.body)
  assert.equal(idp.requests.tokenRefresh, 1)
  await waitFor('B to see the new token', async () => claims(await me(b, jar)).jti !== before.jti)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('within one instance, the requests of one session share one attempt: one lock taken, one call to Cognito', async (t) => {
  const { idp, clock, build } = await fleet(t)
  let locks = 0
  const a = await build({}, (real) => ({ ...real, acquireLock: async (key, owner, ttl) => { locks++; return await real.acquireLock(key, owner, ttl) } }))
  const { jar } = await login(a, idp)
  clock.advance(3601)
  const after = (await Promise.all([me(a, jar), me(a, jar), me(a, jar)])).map(claims)
  assert.equal(locks, 1)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.deepEqual(after[1], after[0])
  assert.deepEqual(after[2], after[0])
})

test('the lock taken after another instance refreshed: the stored session is read again and adopted, Cognito is not called', async (t) => {
  const { idp, clock, build } = await fleet(t)
  const gate = new Gate()
  let holdLock = true
  const b = await build({}, (real) => ({
    ...real,
    acquireLock: async (key, owner, ttl) => {
      if (holdLock) {
        holdLock = false
        await gate.pass()
      }
      return await real.acquireLock(key, owner, ttl)
    }
  }))
  const a = await build()
  const { jar } = await login(a, idp)
  claims(await me(b, jar))
  clock.advance(3601)
  const onB = me(b, jar)
  await waitFor('B to hold the old session, about to take the lock', () => gate.waiting === 1)
  const onA = claims(await me(a, jar))
  assert.equal(idp.requests.tokenRefresh, 1)
  gate.open()
  assert.deepEqual(claims(await onB), onA, 'B took the free lock, found new tokens, and adopted them')
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('the lock held by an instance that is refreshing: the others wait, then adopt what it stored (its lock still held)', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const replaceGate = new Gate()
  // Store calls bounded by 2 s here: the test holds one back for a moment.
  const a = await build({ sessionStoreTimeout: 2000 }, (real) => ({
    ...real,
    replace: async (key, value) => {
      await replaceGate.pass()
      return await real.replace(key, value)
    },
    // The lock is left to expire: releasing it is best effort.
    releaseLock: async () => { throw new Error('connection reset') }
  }))
  const b = await build({ sessionStoreTimeout: 2000 })
  const { jar } = await login(a, idp)
  claims(await me(b, jar))
  clock.advance(3601)
  const onA = me(a, jar)
  await waitFor('A to hold the lock with new tokens from Cognito', () => replaceGate.waiting === 1)
  const onB = me(b, jar)
  await new Promise((resolve) => setTimeout(resolve, 120))
  replaceGate.open()
  const fromA = claims(await onA)
  assert.deepEqual(claims(await onB), fromA)
  assert.equal(idp.requests.tokenRefresh, 1)
  const client = await redis.client()
  assert.equal(await client.exists(keys.lock(sidOf(jar))), 1, 'a failed release leaves the lock to expire by itself')
})

test('a lock nobody releases, the token still valid: the request goes on with the current token at once', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const a = await build()
  const { jar } = await login(a, idp)
  const before = claims(await me(a, jar))
  const client = await redis.client()
  await client.set(keys.lock(sidOf(jar)), 'a crashed instance', { expiration: { type: 'PX', value: 60_000 } })
  // Due for a refresh (within refreshSkew), not expired.
  clock.advance(before.exp - clock.seconds() - 10)
  const started = clock.now()
  const response = await whileTimePasses(clock, 0.1, me(a, jar))
  assert.deepEqual(claims(response), before)
  assert.ok(clock.now() - started < LOCK_MS, 'no wait for a refresh another instance may be doing')
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('a lock nobody releases, the token expired: 503 FST_COGNITO_REFRESH_PENDING with Retry-After, the session kept', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const a = await build()
  const { jar } = await login(a, idp)
  const client = await redis.client()
  await client.set(keys.lock(sidOf(jar)), 'a crashed instance', { expiration: { type: 'PX', value: 60_000 } })
  clock.advance(3601)
  const response = await whileTimePasses(clock, 0.1, me(a, jar))
  assert.equal(response.statusCode, 503, response.body)
  assert.equal(response.headers['retry-after'], '1')
  assert.equal(response.json<{ code: string }>().code, 'FST_COGNITO_REFRESH_PENDING')
  assert.equal(response.headers['set-cookie'], undefined)
  assert.equal(await client.exists(keys.session(sidOf(jar))), 1)

  await client.del(keys.lock(sidOf(jar)))
  claims(await me(a, jar))
  assert.equal(idp.requests.tokenRefresh, 1, 'the lock gone, the next request refreshes')
})

test('a lock released without a result: the waiting instance takes it and refreshes itself', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const a = await build()
  const { jar } = await login(a, idp)
  const before = claims(await me(a, jar))
  const client = await redis.client()
  await client.set(keys.lock(sidOf(jar)), 'an instance whose refresh failed', { expiration: { type: 'PX', value: 60_000 } })
  clock.advance(3601)
  const waiting = me(a, jar)
  await new Promise((resolve) => setTimeout(resolve, 150))
  assert.equal(idp.requests.tokenRefresh, 0, 'waiting for the holder')
  await client.del(keys.lock(sidOf(jar)))
  assert.notEqual(claims(await waiting).jti, before.jti)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('signed out elsewhere while Cognito was answering: the new tokens are not stored and the session ends', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const b = await build()
  const browser: { jar?: CookieJar } = {}
  let logout: LightMyRequestResponse | undefined
  const a = await build({
    onRefresh: async () => {
      logout = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: browser.jar?.header ?? '', origin: APP_ORIGIN } })
    }
  })
  const { jar } = await login(a, idp)
  browser.jar = jar
  clock.advance(3601)
  const response = await me(a, jar)
  assert.equal(logout?.statusCode, 302)
  assert.equal(response.statusCode, 401, response.body)
  assert.equal(response.json<{ code: string }>().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.match(String(response.headers['set-cookie']), /^cognito_sid=; Max-Age=0/)
  assert.equal(await (await redis.client()).exists(keys.session(sidOf(jar))), 0, 'not brought back')
})

test('a session signed out before the lock is taken, or while another instance holds it: the session has ended', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const gate = new Gate()
  let holdLock = true
  const a = await build({}, (real) => ({
    ...real,
    acquireLock: async (key, owner, ttl) => {
      if (holdLock) {
        holdLock = false
        await gate.pass()
      }
      return await real.acquireLock(key, owner, ttl)
    }
  }))
  const client = await redis.client()
  const first = (await login(a, idp)).jar
  const second = (await login(a, idp)).jar
  clock.advance(3601)

  const pending = me(a, first)
  await waitFor('the request to hold the session, about to lock', () => gate.waiting === 1)
  await client.del(keys.session(sidOf(first)))
  gate.open()
  const holding = await pending
  assert.equal(holding.statusCode, 401, holding.body)
  assert.equal(holding.json<{ code: string }>().code, 'FST_COGNITO_SESSION_EXPIRED')

  // Not yet known as ended here (cached), the lock held elsewhere, and gone from the store.
  await client.set(keys.lock(sidOf(second)), 'another instance', { expiration: { type: 'PX', value: 60_000 } })
  await client.del(keys.session(sidOf(second)))
  const waiting = await me(a, second)
  assert.equal(waiting.statusCode, 401, waiting.body)
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('announcing the refresh fails: the request still gets the new tokens, and the others find them when they need them', async (t) => {
  const { idp, clock, build } = await fleet(t)
  const a = await build({}, (real) => ({ ...real, publish: async () => { throw new Error('READONLY') } }))
  const b = await build()
  const { jar } = await login(a, idp)
  claims(await me(b, jar))
  clock.advance(3601)
  const fromA = claims(await me(a, jar))
  assert.deepEqual(claims(await me(b, jar)), fromA, 'B\'s old copy is due: it takes the lock, reads again and adopts')
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('the store failing at a refresh: 503 once the token has expired, the current token while it is valid, never a sign-out', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const a = await build()
  const { jar } = await login(a, idp)
  const before = claims(await me(a, jar))
  redis.pause()
  t.after(() => { redis.resume() })
  clock.advance(before.exp - clock.seconds() - 10)
  const due = await me(a, jar)
  assert.deepEqual(claims(due), before, 'the session is in memory; the lock cannot be taken; the token is still valid')
  clock.advance(20)
  const expired = await me(a, jar)
  assert.equal(expired.statusCode, 503, expired.body)
  assert.equal(expired.json<{ code: string }>().code, 'FST_COGNITO_SESSION_STORE_UNAVAILABLE')
  assert.equal(expired.headers['set-cookie'], undefined)
  redis.resume()
  assert.notEqual(claims(await me(a, jar)).jti, before.jti)
})

test('the refresh token revoked at Cognito: the session ends in the store and on every instance', async (t) => {
  const { idp, redis, clock, build } = await fleet(t)
  const a = await build()
  const b = await build()
  const { jar } = await login(a, idp)
  claims(await me(b, jar))
  idp.revokeAllSessions()
  clock.advance(3601)
  const response = await me(a, jar)
  assert.equal(response.statusCode, 401, response.body)
  assert.equal(response.json<{ code: string }>().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(await (await redis.client()).exists(keys.session(sidOf(jar))), 0)
  const onB = await me(b, jar)
  assert.equal(onB.statusCode, 401, onB.body)
})
