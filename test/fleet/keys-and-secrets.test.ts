import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { RedisClientType } from 'redis'
import { redisStore } from '../../lib/redis/index.js'
import { APP_ORIGIN, CLIENT_IDS, CookieJar, login, SESSION_SECRET, startIdp, type TestOptions } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { eventually, get, redisKeys, subscriberCount } from './harness.js'
import { buildFleet, buildInstance, callsBetween, commandCalls, sidOf } from './helpers.js'

/**
 * What one Redis shared by several apps, deployments or secrets keeps apart: key spaces and channels per app client
 * (or prefix), sessions per `sessionSecret`, sessions per ticket secret; and what a copy of Redis gives away.
 */

const PUBLIC = `fastify-cognito:${CLIENT_IDS.public}:`
const CONFIDENTIAL = `fastify-cognito:${CLIENT_IDS.confidential}:`
const OTHER_SECRET = 'another-session-secret-of-at-least-32-chars'

async function post (app: FastifyInstance, url: string, jar: CookieJar): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url, headers: { cookie: jar.header, origin: APP_ORIGIN } })
}

async function status (app: FastifyInstance, jar: CookieJar): Promise<number> {
  return (await get(app, '/me', jar)).statusCode
}

/** A jar whose ticket is `<sid>.<secret>`. */
function ticketJar (sid: string, secret: string): CookieJar {
  const jar = new CookieJar()
  jar.cookies.set('cognito_sid', `${sid}.${secret}`)
  return jar
}

/**
 * Every key with everything it holds, as a dump of the Redis would show it, and every base64url part of it decoded
 * (an encoded value is as readable as a plain one).
 */
async function dump (client: RedisClientType): Promise<string> {
  const lines: string[] = []
  for (const key of await redisKeys(client)) {
    const type = await client.type(key)
    if (type === 'string') lines.push(`${key} = ${await client.get(key) ?? ''}`)
    else if (type === 'set') lines.push(`${key} = ${(await client.sMembers(key)).join(' ')}`)
    else if (type === 'zset') lines.push(`${key} = ${(await client.zRangeWithScores(key, 0, -1)).map(({ value, score }) => `${value}@${score}`).join(' ')}`)
    else lines.push(`${key} (${type})`)
  }
  const text = lines.join('\n')
  const decoded = (text.match(/[A-Za-z0-9_-]{16,}/g) ?? []).map((part) => Buffer.from(part, 'base64url').toString('latin1'))
  return [text, ...decoded].join('\n')
}

test('two app clients on one Redis: key spaces, channels, sessions and sign-outs apart', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const [shopA, shopB] = await buildFleet(t, idp, redis, 2) as [FastifyInstance, FastifyInstance]
  const admin = await buildInstance(t, idp, redis, {}, 'confidential')
  assert.equal(await subscriberCount(probe, `${PUBLIC}events`), 2)
  assert.equal(await subscriberCount(probe, `${CONFIDENTIAL}events`), 1)

  // Alice signs in to both apps (the same user, the same `sub`).
  const inShop = (await login(shopA, idp)).jar
  const inAdmin = (await login(admin, idp)).jar
  const keys = await redisKeys(probe)
  assert.deepEqual(keys.map((key) => key.replace(/\{.*\}$/, '{…}')), [`${CONFIDENTIAL}s:{…}`, `${CONFIDENTIAL}u:{…}`, `${PUBLIC}s:{…}`, `${PUBLIC}u:{…}`])
  // The user's index has the same hashed name in both key spaces, each listing only its own app's session.
  assert.deepEqual(await probe.sMembers(keys[1] as string), [sidOf(inAdmin)])
  assert.deepEqual(await probe.sMembers(keys[3] as string), [sidOf(inShop)])

  // A ticket is looked up in its own app's key space only.
  assert.equal(await status(admin, inShop), 401)
  assert.equal(await status(shopB, inAdmin), 401)
  assert.equal(await status(shopB, inShop), 200)

  // logoutEverywhere in the shop ends Alice's shop sessions, not her admin session.
  const out = await shopB.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: inShop.header } })
  assert.equal(out.statusCode, 302, out.body)
  await eventually(async () => { assert.equal(await status(shopA, inShop), 401) })
  assert.equal(await status(admin, inAdmin), 200)
  assert.deepEqual((await redisKeys(probe)).map((key) => key.replace(/\{.*\}$/, '{…}')), [`${CONFIDENTIAL}s:{…}`, `${CONFIDENTIAL}u:{…}`, `${PUBLIC}revoked`])
  // And the admin app, asked to end Alice's sessions, ends its own one.
  const sub = (await get(admin, '/me', inAdmin)).json().sub
  assert.equal(await admin.cognito.endSessions(sub), 1)
  assert.equal(await status(admin, inAdmin), 401)
})

test('one app client, two deployments on one Redis by prefix: tickets and channels apart', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const prefixed = async (prefix: string): Promise<FastifyInstance> => await buildInstance(t, idp, redis, { sessionStore: redisStore({ client: await redis.client(), prefix }) })
  const staging = await prefixed('staging:')
  const production = await prefixed('production:')
  assert.equal(await subscriberCount(probe, 'staging:events'), 1)
  assert.equal(await subscriberCount(probe, 'production:events'), 1)

  const jar = (await login(staging, idp)).jar
  assert.deepEqual((await redisKeys(probe)).map((key) => key.replace(/\{.*\}$/, '{…}')), ['staging:s:{…}', 'staging:u:{…}'])
  assert.equal(await status(staging, jar), 200)
  assert.equal(await status(production, jar), 401)
  // Signing out with it on production finds no session there, and changes nothing on staging.
  const out = await post(production, '/logout', jar)
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(await status(staging, jar), 200)
  assert.equal(idp.requests.revoke, 0)
})

test('an instance with another sessionSecret under the same key space cannot open, refresh or end the sessions', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const ours = await buildInstance(t, idp, redis)
  const theirs = await buildInstance(t, idp, redis, { sessionSecret: OTHER_SECRET })
  const jar = (await login(ours, idp)).jar
  const before = await redisKeys(probe)

  assert.equal(await status(theirs, jar), 401)
  assert.equal((await post(theirs, '/refresh', jar)).statusCode, 401)
  assert.equal((await post(theirs, '/logout', jar)).statusCode, 302)
  assert.equal((await theirs.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: jar.header } })).statusCode, 302)
  assert.deepEqual(await redisKeys(probe), before)
  assert.equal(await status(ours, jar), 200)
  assert.equal(idp.requests.revoke, 0)
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('rotating sessionSecret across a fleet takes two steps: read with the new secret everywhere, then seal with it', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const old = SESSION_SECRET
  const next = OTHER_SECRET
  const before = await buildInstance(t, idp, redis, { sessionSecret: old })
  const step1 = await buildInstance(t, idp, redis, { sessionSecret: [old, next] })
  const step2 = await buildInstance(t, idp, redis, { sessionSecret: [next, old] })

  const sealedOld = (await login(before, idp)).jar
  const sealedByStep1 = (await login(step1, idp)).jar
  const sealedNew = (await login(step2, idp)).jar
  // Step 1 (seal with the old secret, open with both) and step 2 (seal with the new one) open each other's sessions.
  for (const jar of [sealedOld, sealedByStep1, sealedNew]) {
    assert.equal(await status(step1, jar), 200)
    assert.equal(await status(step2, jar), 200)
  }
  // An instance still on the old secret alone cannot open a session sealed with the new one: why step 1 must be
  // everywhere before step 2 starts anywhere.
  assert.equal(await status(before, sealedOld), 200)
  assert.equal(await status(before, sealedByStep1), 200)
  assert.equal(await status(before, sealedNew), 401)
  // A refresh on a step-2 instance seals the session with the new secret: from then on only step 1 and 2 open it.
  assert.equal((await post(step2, '/refresh', sealedOld)).statusCode, 200)
  await eventually(async () => { assert.equal(await status(before, sealedOld), 401) })
  assert.equal(await status(step1, sealedOld), 200)
})

test('a copy of Redis holds no token, no ticket secret, no user id and no e-mail address', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const secrets: string[] = []
  const overrides: Partial<TestOptions> = {
    onLogin: (_request, { user, tokens }) => {
      secrets.push(user.sub, tokens.accessToken, tokens.idToken ?? '', tokens.refreshToken ?? '')
      if (typeof user.email === 'string') secrets.push(user.email)
    },
    onRefresh: (_request, user) => { secrets.push(user.sub) }
  }
  const [a, b] = await buildFleet(t, idp, redis, 2, overrides) as [FastifyInstance, FastifyInstance]
  const alice = (await login(a, idp)).jar
  const bob = (await login(b, idp, { username: 'bob' })).jar
  const signedOut = (await login(a, idp)).jar
  assert.equal((await post(b, '/refresh', alice)).statusCode, 200)
  assert.equal((await post(a, '/logout', signedOut)).statusCode, 302)
  for (const jar of [alice, bob, signedOut]) secrets.push((jar.cookies.get('cognito_sid') ?? '').slice(44))
  // Every part of every JWT too: a header, a payload or a signature alone gives something away.
  const parts = secrets.flatMap((secret) => secret.split('.')).filter((part) => part.length >= 16)
  assert.ok(parts.length >= 20, `${parts.length} secrets`)

  const text = await dump(probe)
  assert.ok(text.includes(`s:{${sidOf(alice)}}`) && text.includes(`s:{${sidOf(bob)}}`), text)
  for (const part of parts) assert.ok(!text.includes(part), `Redis holds ${part.slice(0, 12)}…`)
  assert.doesNotMatch(text, /@example\.com/)
  // Session values are two sealed parts (session, envelope) of base64url.
  for (const jar of [alice, bob]) {
    const value = await probe.get(`${PUBLIC}s:{${sidOf(jar)}}`)
    assert.match(value ?? '', /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  }
})

test('forged tickets: a session id with another secret is refused everywhere and leaves the session alone', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const fleet = await buildFleet(t, idp, redis, 3)
  const [a, b] = fleet as [FastifyInstance, FastifyInstance]
  const alice = (await login(a, idp)).jar
  const bob = (await login(b, idp, { username: 'bob' })).jar
  for (const app of fleet) assert.equal(await status(app, alice), 200)
  const aliceSecret = (alice.cookies.get('cognito_sid') ?? '').slice(44)
  const forgeries = [
    ticketJar(sidOf(alice), randomBytes(32).toString('base64url')),
    ticketJar(sidOf(bob), aliceSecret)
  ]
  const keys = await redisKeys(probe)

  for (const forged of forgeries) {
    // On every instance, also those that hold Alice's session in memory: one read of the store, then 401.
    for (const app of fleet) {
      const before = await commandCalls(redis)
      const answer = await get(app, '/me', forged)
      assert.equal(answer.statusCode, 401, answer.body)
      assert.equal(answer.json().code, 'FST_COGNITO_UNAUTHENTICATED')
      assert.deepEqual(callsBetween(before, await commandCalls(redis)).get, 1)
    }
    assert.equal((await post(b, '/refresh', forged)).statusCode, 401)
    assert.equal((await post(b, '/logout', forged)).statusCode, 302)
    assert.equal((await b.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: forged.header } })).statusCode, 302)
  }
  // Nothing refreshed, locked, revoked or deleted: both sessions go on, everywhere.
  assert.deepEqual(await redisKeys(probe), keys)
  assert.equal(idp.requests.tokenRefresh, 0)
  assert.equal(idp.requests.revoke, 0)
  for (const app of fleet) {
    assert.equal(await status(app, alice), 200)
    assert.equal(await status(app, bob), 200)
  }

  // What is not a ticket at all costs no Redis command.
  const sid = sidOf(alice)
  const malformed = [`${sid}.${aliceSecret.slice(1)}`, `${sid}.${aliceSecret}x`, `${sid}:${aliceSecret}`, `${sid}.${aliceSecret.slice(0, -1)}=`, `${sid.slice(0, -1)}*.${aliceSecret}`]
  for (const value of malformed) {
    const jar = new CookieJar()
    jar.cookies.set('cognito_sid', value)
    const before = await commandCalls(redis)
    assert.equal(await status(a, jar), 401, value)
    const { info: _info, ...commands } = callsBetween(before, await commandCalls(redis))
    assert.deepEqual(commands, {}, value)
  }
})
