import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import { APP_ORIGIN, CLIENT_IDS, LOGOUT_URI, login, REDIRECT_URI, SECURE_REDIRECT_URI, startIdp, type TestOptions } from '../helpers/app.js'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'
import { eventually, fleetClock, get, redisKeys, refreshGate, tokenOf, type FleetClock, type RefreshGate, type TokenAnswer } from './harness.js'
import { buildFleet, callsBetween, commandCalls, sidOf } from './helpers.js'

/**
 * One refresh across the fleet. The local Cognito rotates refresh tokens with no grace period, as an app client with
 * rotation may: a second refresh with the same refresh token would be `invalid_grant` and sign the user out. So every
 * request answering 200 with the same new token, and one call at Cognito, proves the instances shared one refresh.
 * A proxy holds Cognito's answers (refreshGate) and one clock drives Cognito and every instance (fleetClock).
 */

const PREFIX = `fastify-cognito:${CLIENT_IDS.public}:`
const CHANNEL = `${PREFIX}events`
/** The local Cognito's access tokens live an hour. */
const TOKEN_SECONDS = 3600
/** Default lock of a refresh: 2 × httpTimeout (5000) + 4 × sessionStoreTimeout (500) + 1000 ms. */
const DEFAULT_LOCK_MS = 13_000

interface Race {
  clock: FleetClock
  idp: LocalCognito
  gate: RefreshGate
  redis: RedisServer
  fleet: [FastifyInstance, FastifyInstance, FastifyInstance]
}

/** Three instances, Cognito behind the gate, with refresh-token rotation and no grace period. */
async function race (t: TestContext, overrides: Partial<TestOptions> = {}): Promise<Race> {
  const clock = fleetClock()
  const idp = await startIdp(t, {
    now: clock.now,
    clients: [{
      clientId: CLIENT_IDS.public,
      callbackUrls: [REDIRECT_URI, SECURE_REDIRECT_URI],
      logoutUrls: [LOGOUT_URI],
      refreshTokenRotation: true,
      rotationGracePeriodSeconds: 0
    }]
  })
  const gate = await refreshGate(t, idp)
  const redis = await startRedis(t)
  const fleet = await buildFleet(t, idp, redis, 3, { now: clock.now, domain: gate.domain, ...overrides })
  return { clock, idp, gate, redis, fleet: fleet as Race['fleet'] }
}

test('three instances refreshing one expired session at once: one call at Cognito, one new token for all', async (t) => {
  const { clock, idp, gate, redis, fleet } = await race(t)
  const probe = await redis.client()
  const { jar } = await login(fleet[0], idp)
  const sid = sidOf(jar)
  // Every instance has the session in memory: each sees the expiry on its own, at the same moment.
  const first = tokenOf(await get(fleet[0], '/token', jar))
  for (const app of fleet) assert.deepEqual(tokenOf(await get(app, '/token', jar)), first)
  const ttlBefore = await probe.ttl(`${PREFIX}s:{${sid}}`)

  clock.advance(TOKEN_SECONDS + 60)
  gate.close()
  // Three browser tabs on each instance.
  const requests = fleet.flatMap((app) => [1, 2, 3].map(async () => await get(app, '/token', jar)))
  await gate.waitForHeld(1)
  // Cognito has answered one instance, which has not heard back yet: it holds the session's lock in Redis.
  const lock = `${PREFIX}l:{${sid}}`
  const holder = await probe.get(lock)
  assert.match(holder ?? '', /^[A-Za-z0-9_-]{43}$/)
  const lockTtl = await probe.pTTL(lock)
  assert.ok(lockTtl > 0 && lockTtl <= DEFAULT_LOCK_MS, `lock TTL ${lockTtl} ms`)

  const released = Date.now()
  gate.release()
  const answers = await Promise.all(requests)
  t.diagnostic(`9 requests on 3 instances answered ${Date.now() - released} ms after Cognito's answer was let through`)

  const tokens = answers.map(tokenOf)
  const refreshed = tokens[0] as TokenAnswer
  assert.notEqual(refreshed.jti, first.jti)
  assert.equal(refreshed.originJti, first.originJti, 'same sign-in')
  assert.ok(refreshed.exp > first.exp)
  for (const token of tokens) assert.deepEqual(token, refreshed)
  // The ticket does not change with the tokens: no cookie goes out, so no browser tab can be left with an old one.
  for (const answer of answers) assert.equal(answer.headers['set-cookie'], undefined)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.equal(gate.arrived, 1)

  // The lock is released, and the session keeps the expiry of its sign-in (a refresh never extends it).
  assert.equal(await probe.exists(lock), 0)
  const ttlAfter = await probe.ttl(`${PREFIX}s:{${sid}}`)
  assert.ok(ttlAfter > 0 && ttlAfter <= ttlBefore, `TTL ${ttlBefore} s before, ${ttlAfter} s after`)

  // Later requests, anywhere, use the new token without another call.
  for (const app of fleet) assert.deepEqual(tokenOf(await get(app, '/token', jar)), refreshed)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('a refresh on one instance reaches the others at once: they drop their still valid copy and read the new one', async (t) => {
  const { idp, redis, fleet } = await race(t)
  const [a, b, c] = fleet
  const { jar } = await login(a, idp)
  const first = tokenOf(await get(a, '/token', jar))
  // B and C have the session in memory, its token valid for an hour: only the announcement can make them drop it.
  for (const app of [b, c]) assert.deepEqual(tokenOf(await get(app, '/token', jar)), first)

  // A listener of the test's own on the fleet's channel, to know when the announcement has gone out.
  const listener = await redis.client()
  const subscriber = listener.duplicate()
  subscriber.on('error', () => {})
  await subscriber.connect()
  t.after(() => { if (subscriber.isOpen) subscriber.destroy() })
  const messages: string[] = []
  await subscriber.subscribe(CHANNEL, (message) => { messages.push(message) })

  const forced = await a.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(forced.statusCode, 200, forced.body)
  const refreshed = tokenOf(await get(a, '/token', jar))
  assert.notEqual(refreshed.jti, first.jti)
  assert.equal(idp.requests.tokenRefresh, 1)
  // `i` names the announcing instance (so that it skips its own announcements).
  await eventually(() => { assert.deepEqual(messages.map((text) => { const { i: _instance, ...message } = JSON.parse(text) as Record<string, unknown>; return message }), [{ t: 'refresh', sid: sidOf(jar) }]) })
  // Redis wrote the message to the instances' subscriptions in the same pass as to the test's: one more turn of the
  // event loop reads them.
  await new Promise((resolve) => setImmediate(resolve))

  for (const app of [b, c]) {
    const before = await commandCalls(redis)
    assert.deepEqual(tokenOf(await get(app, '/token', jar)), refreshed)
    const { info: _info, ...commands } = callsBetween(before, await commandCalls(redis))
    // One read of the new session, then it is in memory again.
    assert.deepEqual(commands, { get: 1 })
    assert.deepEqual(tokenOf(await get(app, '/token', jar)), refreshed)
  }
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('after a refresh elsewhere, an instance whose copy has expired reads the new session and takes no lock', async (t) => {
  const { clock, idp, redis, fleet } = await race(t)
  const [a, b] = fleet
  const { jar } = await login(a, idp)
  const first = tokenOf(await get(a, '/token', jar))
  assert.deepEqual(tokenOf(await get(b, '/token', jar)), first)

  clock.advance(TOKEN_SECONDS + 60)
  const refreshed = tokenOf(await get(a, '/token', jar))
  assert.notEqual(refreshed.jti, first.jti)
  const before = await commandCalls(redis)
  assert.deepEqual(tokenOf(await get(b, '/token', jar)), refreshed)
  const { info: _info, ...commands } = callsBetween(before, await commandCalls(redis))
  // A copy is kept no longer than its token lives: B reads the store and finds tokens that need no refresh.
  assert.deepEqual(commands, { get: 1 })
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('a refresh that loses to a sign-out on another instance does not bring the session back', async (t) => {
  const { clock, idp, gate, redis, fleet } = await race(t)
  const [a, b, c] = fleet
  const probe = await redis.client()
  const { jar } = await login(a, idp)
  for (const app of fleet) tokenOf(await get(app, '/token', jar))

  clock.advance(TOKEN_SECONDS + 60)
  gate.close()
  const refreshing = get(a, '/token', jar)
  // Cognito has issued new tokens for the session; before A hears back, the user signs out on B.
  await gate.waitForHeld(1)
  const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  gate.release()

  const answer = await refreshing
  assert.equal(answer.statusCode, 401, answer.body)
  assert.equal(answer.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.match(String(answer.headers['set-cookie']), /cognito_sid=; Max-Age=0/)
  // The new tokens were not stored: no session, no lock, under any key.
  assert.deepEqual((await redisKeys(probe)).filter((key) => key !== `${PREFIX}revoked`), [])
  for (const app of [a, b, c]) assert.equal((await get(app, '/token', jar)).statusCode, 401)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('POST /refresh on two instances at once: the second adopts the first one\'s result', async (t) => {
  const { idp, gate, redis, fleet } = await race(t)
  const [a, b] = fleet
  const { jar } = await login(a, idp)
  const first = tokenOf(await get(a, '/token', jar))
  const refresh = async (app: FastifyInstance): Promise<LightMyRequestResponse> =>
    await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })

  gate.close()
  const onA = refresh(a)
  await gate.waitForHeld(1)
  // B's refresh starts while A holds the lock: B reads the session (B has no copy yet), fails to take the lock
  // (SET NX), reads it again and waits.
  const before = await commandCalls(redis)
  const onB = refresh(b)
  await eventually(async () => {
    const ran = callsBetween(before, await commandCalls(redis))
    assert.ok((ran.set ?? 0) >= 1 && (ran.get ?? 0) >= 2, JSON.stringify(ran))
  })
  gate.release()

  const [answerA, answerB] = await Promise.all([onA, onB])
  assert.equal(answerA.statusCode, 200, answerA.body)
  assert.equal(answerB.statusCode, 200, answerB.body)
  assert.deepEqual(answerB.json(), answerA.json())
  assert.equal(idp.requests.tokenRefresh, 1)
  const refreshed = tokenOf(await get(b, '/token', jar))
  assert.notEqual(refreshed.jti, first.jti)
  assert.deepEqual(tokenOf(await get(a, '/token', jar)), refreshed)
})

test('an instance that died holding the lock: a valid token goes on at once, an expired one waits for the lock\'s time and answers 503', async (t) => {
  // A short lock: 2 × 500 + 4 × 100 + 1000 = 2400 ms.
  const lockMs = 2400
  const { clock, idp, redis, fleet } = await race(t, { httpTimeout: 500, sessionStoreTimeout: 100 })
  const [a, b] = fleet
  const probe = await redis.client()
  const { jar } = await login(a, idp)
  const first = tokenOf(await get(a, '/token', jar))
  const lock = `${PREFIX}l:{${sidOf(jar)}}`
  // The lock of an instance that took it and died: nobody releases it.
  await probe.set(lock, 'an instance that died', { PX: 60_000 })

  // Due for a refresh (within refreshSkew, 30 s) but still valid: the current token serves without waiting.
  clock.advance(first.exp - Math.floor(clock.now() / 1000) - 10)
  let started = Date.now()
  assert.deepEqual(tokenOf(await get(b, '/token', jar)), first)
  const waitedValid = Date.now() - started
  assert.ok(waitedValid < lockMs / 2, `waited ${waitedValid} ms`)

  // Expired: after the wait, 503 with Retry-After, never a sign-out.
  clock.advance(60)
  started = Date.now()
  const pending = await get(b, '/token', jar)
  const waitedExpired = Date.now() - started
  assert.equal(pending.statusCode, 503, pending.body)
  assert.equal(pending.json().code, 'FST_COGNITO_REFRESH_PENDING')
  assert.equal(pending.headers['retry-after'], '1')
  assert.equal(pending.headers['set-cookie'], undefined)
  assert.ok(waitedExpired >= lockMs - 50 && waitedExpired < lockMs + 2000, `waited ${waitedExpired} ms`)
  t.diagnostic(`with a dead holder's lock, a request waited ${waitedValid} ms (valid token) and ${waitedExpired} ms (expired: 503), lock ${lockMs} ms`)
  assert.equal(idp.requests.tokenRefresh, 0)

  // The lock expires (here: is deleted): the next request refreshes.
  await probe.del(lock)
  const refreshed = tokenOf(await get(b, '/token', jar))
  assert.notEqual(refreshed.jti, first.jti)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('Cognito refuses the refresh (the user was signed out there): one call, and every instance signs the session out', async (t) => {
  const { clock, idp, gate, redis, fleet } = await race(t)
  const probe = await redis.client()
  const { jar } = await login(fleet[0], idp)
  for (const app of fleet) tokenOf(await get(app, '/token', jar))
  // An administrator signs the user out globally at Cognito: every refresh token of the user dies.
  idp.revokeAllSessions()

  clock.advance(TOKEN_SECONDS + 60)
  gate.close()
  const requests = fleet.flatMap((app) => [1, 2].map(async () => await get(app, '/token', jar)))
  await gate.waitForHeld(1)
  gate.release()
  for (const answer of await Promise.all(requests)) {
    assert.equal(answer.statusCode, 401, answer.body)
    assert.equal(answer.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  }
  // One refused call: the instances that waited found the session ended instead of trying again.
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.deepEqual(await redisKeys(probe), [])
  for (const app of fleet) assert.equal((await get(app, '/token', jar)).statusCode, 401)
})
