import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { redisStore } from '../../lib/redis/index.js'
import { APP_ORIGIN, bearer, CLIENT_IDS, login, LOGOUT_URI, REDIRECT_URI, SECURE_REDIRECT_URI, startIdp, type TestOptions } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, fleetClock, get, redisKeys, subscriberCount, tokenOf } from './harness.js'
import { buildFleet, buildInstance, callsBetween, captureLogins, commandCalls, sidOf } from './helpers.js'

/**
 * Three instances of one app on one Redis, as a load balancer spreads a browser's requests: a session signed in on
 * one is served by all, read from Redis once per instance, and a sign-out anywhere ends it everywhere (the session,
 * copies of its cookie, its access tokens replayed as Bearer tokens), on instances started later too.
 */

const PREFIX = `fastify-cognito:${CLIENT_IDS.public}:`
const CHANNEL = `${PREFIX}events`
const MAX_SESSION_AGE = 30 * 24 * 3600

/** Tokens handed to onLogin, in sign-in order: what a thief of a session's access token would replay. */
function capturedLogins (): { logins: Array<{ sub: string, accessToken: string, refreshToken: string | undefined }>, overrides: Partial<TestOptions> } {
  const logins: Array<{ sub: string, accessToken: string, refreshToken: string | undefined }> = []
  return {
    logins,
    overrides: { onLogin: (_request, { user, tokens }) => { logins.push({ sub: user.sub, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }) } }
  }
}

/** The commands one request ran on Redis (the INFO of the count itself left out). */
async function commandsOf (redis: Awaited<ReturnType<typeof startRedis>>, run: () => Promise<LightMyRequestResponse>): Promise<{ response: LightMyRequestResponse, commands: Record<string, number> }> {
  const before = await commandCalls(redis)
  const response = await run()
  const { info: _info, ...commands } = callsBetween(before, await commandCalls(redis))
  return { response, commands }
}

test('a session signed in on one instance is served by all three, each reading Redis at most once', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const [a, b, c] = await buildFleet(t, idp, redis, 3) as [FastifyInstance, FastifyInstance, FastifyInstance]
  const probe = await redis.client()

  const before = await commandCalls(redis)
  const { jar } = await login(a, idp)
  const { info: _info, ...atLogin } = callsBetween(before, await commandCalls(redis))
  // The session and its user's index written once; nothing else (no read, no lock, no message).
  assert.deepEqual(atLogin, { set: 1, eval: 1, sadd: 1, ttl: 1, expire: 1 })
  t.diagnostic(`Redis commands of a sign-in: ${JSON.stringify(atLogin)}`)

  // The browser holds the ticket only: 87 characters, whatever the session holds.
  assert.deepEqual([...jar.cookies.keys()], ['cognito_sid'])
  assert.match(jar.cookies.get('cognito_sid') ?? '', /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/)
  const sid = sidOf(jar)
  const keys = await redisKeys(probe)
  assert.equal(keys.length, 2, keys.join(', '))
  assert.equal(keys[0], `${PREFIX}s:{${sid}}`)
  assert.match(keys[1] ?? '', new RegExp(`^${PREFIX}u:\\{[A-Za-z0-9_-]{32}\\}$`))
  const ttl = await probe.ttl(`${PREFIX}s:{${sid}}`)
  assert.ok(ttl > MAX_SESSION_AGE - 60 && ttl <= MAX_SESSION_AGE, `session TTL ${ttl}`)
  assert.deepEqual(await probe.sMembers(keys[1] as string), [sid])

  // First round: the instance that signed the user in has the session in memory; the two others read it once.
  // Second round: every instance answers from memory, without a single Redis command.
  const expected = [[{}, { get: 1 }, { get: 1 }], [{}, {}, {}]]
  const seen = new Set<string>()
  for (const round of expected) {
    for (const [i, app] of [a, b, c].entries()) {
      const { response, commands } = await commandsOf(redis, async () => await get(app, '/token', jar))
      seen.add(JSON.stringify(tokenOf(response)))
      assert.deepEqual(commands, round[i], `instance ${'abc'[i] ?? i}`)
    }
  }
  assert.equal(seen.size, 1, 'every instance authenticates the same access token')

  // A cold instance under a burst: every request of the burst that arrives before the first read ends reads Redis.
  const d = await buildInstance(t, idp, redis)
  const burst = await commandCalls(redis)
  const answers = await Promise.all(Array.from({ length: 20 }, async () => await get(d, '/me', jar)))
  assert.ok(answers.every((answer) => answer.statusCode === 200))
  const reads = callsBetween(burst, await commandCalls(redis)).get ?? 0
  assert.ok(reads >= 1 && reads <= 20, `${reads} GETs`)
  t.diagnostic(`20 concurrent requests of one session on a cold instance: ${reads} GETs`)
})

test('a sign-out on one instance is refused on every instance: copies of the cookie, Bearer replays, instances started later', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const { logins, overrides } = capturedLogins()
  const fleet = await buildFleet(t, idp, redis, 3, overrides)
  const [a, , c] = fleet as [FastifyInstance, FastifyInstance, FastifyInstance]
  const probe = await redis.client()
  const { jar } = await login(a, idp)
  const stolen = jar.clone()
  const accessToken = logins[0]?.accessToken ?? ''
  // Every instance has the session in memory and has verified its token as a Bearer token: the state a sign-out
  // has to reach.
  for (const app of fleet) {
    assert.equal((await get(app, '/me', jar)).statusCode, 200)
    assert.equal((await app.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 200)
  }
  const token = tokenOf(await get(a, '/token', jar))

  const out = await c.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.match(String(out.headers['set-cookie']), /cognito_sid=; Max-Age=0/)
  const loggedOut = Date.now()

  // The copy of the cookie and the Bearer replay are refused on every instance, as soon as the fleet's messages
  // arrive.
  await eventually(async () => {
    for (const app of fleet) {
      const cookie = await get(app, '/me', stolen)
      assert.equal(cookie.statusCode, 401, cookie.body)
      assert.equal(cookie.json().code, 'FST_COGNITO_UNAUTHENTICATED')
      const replay = await app.inject({ url: '/me', headers: bearer(accessToken) })
      assert.equal(replay.statusCode, 401, replay.body)
      assert.equal(replay.json().code, 'FST_COGNITO_INVALID_TOKEN')
    }
  })
  t.diagnostic(`refused on all three instances ${Date.now() - loggedOut} ms after the logout answered`)

  // Redis: the session and its user's index are gone; the sign-in's access tokens are listed until they expire.
  assert.deepEqual(await redisKeys(probe), [`${PREFIX}revoked`])
  assert.equal(await probe.zScore(`${PREFIX}revoked`, token.originJti), token.exp * 1000)
  const revokedTtl = await probe.pTTL(`${PREFIX}revoked`)
  assert.ok(revokedTtl > 0 && revokedTtl <= token.exp * 1000 - Date.now() + 1000, `revocation list TTL ${revokedTtl}`)
  assert.equal(idp.requests.revoke, 1)

  // An instance started after the sign-out learns it from the list in Redis, not from a message it never got.
  const late = await buildInstance(t, idp, redis, overrides)
  const replay = await late.inject({ url: '/me', headers: bearer(accessToken) })
  assert.equal(replay.statusCode, 401, replay.body)
  assert.equal(replay.json().code, 'FST_COGNITO_INVALID_TOKEN')
  assert.equal((await get(late, '/me', stolen)).statusCode, 401)
})

test('logoutEverywhere on one instance ends every session of that user on every instance, and no one else\'s', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const { logins, overrides } = capturedLogins()
  const fleet = await buildFleet(t, idp, redis, 3, overrides)
  const [a, b, c] = fleet as [FastifyInstance, FastifyInstance, FastifyInstance]
  const probe = await redis.client()
  // Alice on three devices, each signed in on another instance; Bob on one.
  const alice = [(await login(a, idp)).jar, (await login(b, idp)).jar, (await login(c, idp)).jar]
  const bob = (await login(c, idp, { username: 'bob' })).jar
  const aliceLogins = logins.slice(0, 3)
  const bobLogin = logins[3]
  assert.ok(bobLogin !== undefined && aliceLogins.every((entry) => entry.sub === aliceLogins[0]?.sub && entry.sub !== bobLogin.sub))
  for (const app of fleet) {
    for (const jar of [...alice, bob]) assert.equal((await get(app, '/me', jar)).statusCode, 200)
  }

  const out = await b.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: alice[1]?.header ?? '' } })
  assert.equal(out.statusCode, 302, out.body)

  await eventually(async () => {
    for (const app of fleet) {
      for (const jar of alice) assert.equal((await get(app, '/me', jar)).statusCode, 401)
      for (const { accessToken } of aliceLogins) assert.equal((await app.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 401)
    }
  })
  // Bob is untouched, by cookie and by Bearer token, on every instance.
  for (const app of fleet) {
    assert.equal((await get(app, '/me', bob)).statusCode, 200)
    assert.equal((await app.inject({ url: '/me', headers: bearer(bobLogin.accessToken) })).statusCode, 200)
  }

  // Alice's three refresh tokens are revoked at Cognito, not only forgotten here; Bob's still works.
  assert.equal(idp.requests.revoke, 3)
  const refreshAtCognito = async (refreshToken: string | undefined): Promise<number> => {
    const answer = await fetch(`${idp.domain}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_IDS.public, refresh_token: refreshToken ?? '' })
    })
    await answer.arrayBuffer()
    return answer.status
  }
  for (const { refreshToken } of aliceLogins) assert.equal(await refreshAtCognito(refreshToken), 400)
  assert.equal(await refreshAtCognito(bobLogin.refreshToken), 200)

  // Redis keeps Bob's session and index, and the three sign-ins of Alice as refused.
  const keys = await redisKeys(probe)
  assert.deepEqual(keys.filter((key) => key.startsWith(`${PREFIX}s:`)), [`${PREFIX}s:{${sidOf(bob)}}`])
  assert.equal(keys.filter((key) => key.startsWith(`${PREFIX}u:`)).length, 1)
  assert.equal(await probe.zCard(`${PREFIX}revoked`), 3)
})

test('app.cognito.endSessions(sub) on an instance the user never used ends the user\'s sessions on every instance', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const { logins, overrides } = capturedLogins()
  const fleet = await buildFleet(t, idp, redis, 3, overrides)
  const [a, b, c] = fleet as [FastifyInstance, FastifyInstance, FastifyInstance]
  const phone = (await login(a, idp)).jar
  const laptop = (await login(b, idp)).jar
  const bob = (await login(b, idp, { username: 'bob' })).jar
  for (const app of fleet) for (const jar of [phone, laptop, bob]) assert.equal((await get(app, '/me', jar)).statusCode, 200)
  const sub = logins[0]?.sub ?? ''

  assert.equal(await c.cognito.endSessions(sub), 2)
  await eventually(async () => {
    for (const app of fleet) {
      for (const jar of [phone, laptop]) assert.equal((await get(app, '/me', jar)).statusCode, 401)
      for (const { accessToken } of logins.slice(0, 2)) assert.equal((await app.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 401)
    }
  })
  for (const app of fleet) assert.equal((await get(app, '/me', bob)).statusCode, 200)
  assert.equal(idp.requests.revoke, 2)
  // Nothing left to end: the second call finds no session, and revokes nothing more.
  assert.equal(await a.cognito.endSessions(sub), 0)
  assert.equal(idp.requests.revoke, 2)
})

test('each instance holds one subscription; closing one ends only its own, and the others go on serving', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  // Instance A on a client of the test's own, to see that closing A leaves the app's client open.
  const appClient = await redis.client()
  const a = await buildInstance(t, idp, redis, { sessionStore: redisStore({ client: appClient }) })
  const [b, c] = await buildFleet(t, idp, redis, 2) as [FastifyInstance, FastifyInstance]
  assert.equal(await subscriberCount(probe, CHANNEL), 3)

  const { jar } = await login(a, idp)
  for (const app of [a, b, c]) assert.equal((await get(app, '/me', jar)).statusCode, 200)
  const clients = Number((await redis.info('clients')).get('connected_clients'))

  await a.close()
  assert.equal(await subscriberCount(probe, CHANNEL), 2)
  assert.equal(Number((await redis.info('clients')).get('connected_clients')), clients - 1)
  assert.equal(appClient.isOpen, true)
  assert.equal(await appClient.ping(), 'PONG')

  // The session signed in on A lives in Redis, not in A: B and C go on, and a sign-out on B reaches C.
  for (const app of [b, c]) assert.equal((await get(app, '/me', jar)).statusCode, 200)
  const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  await eventually(async () => { assert.equal((await get(c, '/me', jar)).statusCode, 401) })
})

test('sessions ended from another device stay refused until their access tokens expire, when ID tokens expire sooner', async (t) => {
  // Cognito sets the two lifetimes apart: here ID tokens live 5 minutes, access tokens an hour.
  const clock = fleetClock()
  const idp = await startIdp(t, {
    now: clock.now,
    clients: [{ clientId: CLIENT_IDS.public, callbackUrls: [REDIRECT_URI, SECURE_REDIRECT_URI], logoutUrls: [LOGOUT_URI], idTokenValiditySeconds: 300 }]
  })
  const redis = await startRedis(t)
  const { logins, overrides } = capturedLogins()
  const fleet = await buildFleet(t, idp, redis, 2, { ...overrides, now: clock.now, autoRefresh: false })
  const [a, b] = fleet as [FastifyInstance, FastifyInstance]
  const phone = (await login(a, idp)).jar
  const laptop = (await login(b, idp)).jar
  const [fromPhone, fromLaptop] = logins.map((entry) => entry.accessToken) as [string, string]

  // Signed out everywhere from the phone: the laptop's session is ended from another device.
  const out = await a.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: phone.header } })
  assert.equal(out.statusCode, 302, out.body)
  await eventually(async () => {
    for (const app of fleet) {
      for (const token of [fromPhone, fromLaptop]) assert.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    }
  })
  assert.equal((await get(b, '/me', laptop)).statusCode, 401)

  // Ten minutes later the ID tokens have expired; the access tokens have 50 minutes left, and stay refused, on the
  // instances that heard the sign-out and on one that starts now and reads the list from Redis.
  clock.advance(600)
  const late = await buildInstance(t, idp, redis, { ...overrides, now: clock.now })
  for (const [instance, app] of Object.entries({ a, b, late })) {
    for (const [device, token] of Object.entries({ phone: fromPhone, laptop: fromLaptop })) {
      const replay = await app.inject({ url: '/me', headers: bearer(token) })
      assert.equal(replay.statusCode, 401, `the ${device}'s token on ${instance}: ${replay.body}`)
      assert.equal(replay.json().code, 'FST_COGNITO_INVALID_TOKEN')
    }
  }
})

test('a sign-out whose index cleanup fails after the delete still ends the session and its tokens on every instance', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const [a, b] = await buildFleet(t, idp, redis, 2) as [FastifyInstance, FastifyInstance]
  // Instance C's store loses its connection once, right after the session is deleted (at the user's index).
  const store = redisStore({ client: await redis.client() })
  let failures = 1
  const logins = captureLogins()
  const c = await buildInstance(t, idp, redis, {
    onLogin: logins.onLogin,
    sessionStore: {
      ...store,
      removeFromSet: async (key, member) => {
        if (failures-- > 0) throw new Error('connection lost')
        await store.removeFromSet(key, member)
      }
    }
  })
  const probe = await redis.client()
  const { jar } = await login(c, idp)
  const stolen = jar.clone()
  const token = logins.last().accessToken
  for (const app of [a, b, c]) assert.equal((await get(app, '/me', jar)).statusCode, 200)

  // The index only serves endSessions, which skips sessions already gone: the sign-out is complete without it.
  const out = await c.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(failures, 0, 'the index cleanup failed once')
  assert.equal(await probe.exists(`${PREFIX}s:{${sidOf(jar)}}`), 0)
  await eventually(async () => {
    for (const app of [a, b, c]) {
      assert.equal((await get(app, '/me', stolen)).statusCode, 401)
      assert.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    }
  })
  // What the failed cleanup left in the index ends nothing and counts for nothing.
  assert.equal(await c.cognito.endSessions(logins.last().sub), 0)
})

test('logoutEverywhere that the store fails half-way answers 503, and its retry still ends every device', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const store = redisStore({ client: await redis.client() })
  const trouble = { failNextSessionRead: false }
  // The store fails once while the other devices are being ended (reading one of their sessions).
  const a = await buildInstance(t, idp, redis, {
    sessionStore: {
      ...store,
      get: async (key) => {
        if (trouble.failNextSessionRead && key.includes(':s:')) {
          trouble.failNextSessionRead = false
          throw new Error('connection lost')
        }
        return await store.get(key)
      }
    }
  })
  const here = await login(a, idp)
  const phone = await login(a, idp)
  const laptop = await login(a, idp)
  for (const jar of [here.jar, phone.jar, laptop.jar]) assert.equal((await get(a, '/me', jar)).statusCode, 200)

  trouble.failNextSessionRead = true
  const failed = await a.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: here.jar.header, origin: APP_ORIGIN } })
  assert.equal(failed.statusCode, 503, failed.body)
  assert.equal(failed.json().code, 'FST_COGNITO_SESSION_STORE_UNAVAILABLE')
  assert.equal(trouble.failNextSessionRead, false, 'the failure happened')
  // This device is still signed in, its tokens still good: the retry is possible.
  assert.equal((await get(a, '/me', here.jar)).statusCode, 200)

  const retried = await a.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: here.jar.header, origin: APP_ORIGIN } })
  assert.equal(retried.statusCode, 302, retried.body)
  for (const jar of [here.jar, phone.jar, laptop.jar]) assert.equal((await get(a, '/me', jar)).statusCode, 401)
  assert.deepEqual(await redisKeys(await redis.client(), `${PREFIX}s:*`), [])
})
