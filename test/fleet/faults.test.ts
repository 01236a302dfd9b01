import { randomBytes } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { RedisClientType } from 'redis'
import { redisStore } from '../../lib/redis/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { APP_ORIGIN, bearer, capturingLogger, login, startIdp, type CookieJar } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import {
  backgroundClient,
  buildStoreApp,
  clearsCookie,
  connectedClient,
  observeSubscription,
  refreshTokenIsLive,
  sessionKeyOf,
  STORE_UNAVAILABLE,
  subscribers,
  ticketOf,
  timedInject,
  tokenRecorder,
  type TokenRecorder,
  touchesCookie,
  uniquePrefix,
  watchDuplicates,
  waitFor
} from './fault-helpers.js'

/** `sessionStoreTimeout` of these tests, ms. */
const STORE_TIMEOUT = 200
/** What "within about sessionStoreTimeout" allows, ms: a 503 after a timeout comes well before this. */
const PROMPT = 2000

function logoutRequest (jar: CookieJar): { method: 'POST', url: string, headers: Record<string, string> } {
  return { method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } }
}

/** The typed 503 of a store fault: its code, `retry-after`, and a body of four fields, no stack. */
function assertStoreUnavailable (response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 503, `${what}: ${response.body}`)
  const body = response.json<Record<string, unknown>>()
  assert.equal(body.code, STORE_UNAVAILABLE, what)
  assert.equal(response.headers['retry-after'], '1', what)
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], what)
  assert.doesNotMatch(response.body, /\bat .*\.(ts|js):\d+/, `${what}: a stack frame in the body`)
}

/** Nothing secret in a text: no token, no ticket (the cookie's value), no session key. */
function assertNoSecrets (text: string, secrets: readonly string[], what: string): void {
  for (const secret of secrets) assert.equal(text.includes(secret), false, `${what} holds a secret (${secret.slice(0, 12)}…)`)
}

test('a paused Redis: a session the instance has not cached answers a prompt 503, keeps its cookie, leaks nothing, and works again after resume', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  const { logger, lines } = capturingLogger()
  const tokens = tokenRecorder()
  const overrides = { sessionStoreTimeout: STORE_TIMEOUT, onLogin: tokens.onLogin }
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), logger, overrides })
  // A fresh instance: it never saw the session, so it must read the store.
  const b = await buildStoreApp(t, idp, { prefix, client: await redis.client(), logger, overrides })
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  assert.ok(accessToken !== undefined)
  const cookie = jar.header
  const secrets = [...tokens.secrets, ticketOf(jar), ticketOf(jar).slice(44)]

  redis.pause()
  t.after(() => { redis.resume() })

  const guarded = await timedInject(b, { url: '/me', headers: { cookie } })
  assertStoreUnavailable(guarded.response, 'GET /me on a fresh instance')
  assert.ok(guarded.ms >= STORE_TIMEOUT * 0.9, `answered in ${guarded.ms.toFixed(0)} ms, before the store timeout`)
  assert.ok(guarded.ms < PROMPT, `answered in ${guarded.ms.toFixed(0)} ms`)
  assert.equal(touchesCookie(guarded.response), false, 'the 503 must leave the session cookie alone')
  assertNoSecrets(guarded.response.body, secrets, 'the 503 body')
  t.diagnostic(`503 of a paused Redis after ${guarded.ms.toFixed(0)} ms (sessionStoreTimeout ${STORE_TIMEOUT} ms)`)

  // An optional guard does not take a store fault for "no session": the same 503, not an anonymous 200.
  const optional = await timedInject(b, { url: '/maybe', headers: { cookie } })
  assertStoreUnavailable(optional.response, 'GET /maybe on a fresh instance')
  assert.ok(optional.ms < PROMPT)

  // Bearer requests need no store round trip.
  for (const app of [a, b]) {
    const started = performance.now()
    const response: LightMyRequestResponse = await app.inject({ url: '/me', headers: bearer(accessToken) })
    assert.equal(response.statusCode, 200, response.body)
    assert.ok(performance.now() - started < STORE_TIMEOUT, 'a Bearer request waited for the paused store')
  }

  // A sign-in that cannot be stored: 503, no session cookie.
  const signIn = await login(b, idp, { username: 'bob' })
  assertStoreUnavailable(signIn.callback, 'the login callback')
  assert.equal(touchesCookie(signIn.callback), false, 'a failed sign-in set a session cookie')
  assert.equal(signIn.jar.cookies.has('cognito_sid'), false)

  redis.resume()
  const admin = await redis.client()
  const stored = await admin.keys(`${prefix}s:*`)
  // The paused sign-in's write reaches Redis after its timeout: a session nobody holds a ticket for, left to expire.
  t.diagnostic(`session keys after resume: ${stored.length} (1 signed in, ${stored.length - 1} written by the refused sign-in)`)
  // The same cookie on the same instance, without a restart.
  const again = await b.inject({ url: '/me', headers: { cookie } })
  assert.equal(again.statusCode, 200, again.body)
  assert.equal(touchesCookie(again), false)

  const log = lines.join('')
  assert.match(log, /the session store failed/, 'the store fault is logged')
  assert.match(log, new RegExp(STORE_UNAVAILABLE))
  assertNoSecrets(log, [...secrets, sessionKeyOf(prefix, jar)], 'the log')
  const stacks = lines.filter((line) => line.includes('"stack"')).length
  t.diagnostic(`log lines: ${lines.length}, of them with a "stack" field: ${stacks}`)
})

test('a paused Redis: a logout answers 503 and leaves the cookie; a retry after resume signs out everywhere', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  const tokens = tokenRecorder()
  const overrides = { sessionStoreTimeout: STORE_TIMEOUT, onLogin: tokens.onLogin }
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides })
  const b = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides })
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  assert.ok(accessToken !== undefined)
  assert.equal((await b.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  redis.pause()
  t.after(() => { redis.resume() })
  const failed = await timedInject(a, logoutRequest(jar))
  assertStoreUnavailable(failed.response, 'POST /logout')
  assert.ok(failed.ms < PROMPT, `answered in ${failed.ms.toFixed(0)} ms`)
  assert.equal(touchesCookie(failed.response), false, 'a failed logout must leave the session cookie: the user retries')
  redis.resume()

  const retried = await a.inject(logoutRequest(jar))
  assert.equal(retried.statusCode, 302, retried.body)
  assert.ok(clearsCookie(retried), 'the retried logout clears the session cookie')
  // Signed out on every instance: the cookie (a copy kept by an attacker) and the access token as a Bearer token.
  for (const app of [a, b]) {
    await waitFor('the signed-out cookie to be refused', async () => {
      const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
      return response.statusCode === 401 ? true : undefined
    }, { timeoutMs: 2000 })
    await waitFor('the signed-out access token to be refused', async () => {
      const response = await app.inject({ url: '/me', headers: bearer(accessToken) })
      return response.statusCode === 401 ? true : undefined
    }, { timeoutMs: 2000 })
  }
})

test('a paused Redis: a logout retried on another instance after the timed-out one still signs out everywhere', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  const tokens = tokenRecorder()
  const overrides = { sessionStoreTimeout: STORE_TIMEOUT, onLogin: tokens.onLogin }
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides })
  const b = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides })
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  const refreshToken = tokens.refreshTokens[0]
  assert.ok(accessToken !== undefined && refreshToken !== undefined)
  assert.equal((await a.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  redis.pause()
  t.after(() => { redis.resume() })
  assertStoreUnavailable(await a.inject(logoutRequest(jar)), 'POST /logout on A')
  redis.resume()
  // Whatever A's timed-out calls were, they reach Redis now; the retry must still end the session everywhere.

  // The user retries; a load balancer sends the retry to B.
  const retried = await b.inject(logoutRequest(jar))
  assert.equal(retried.statusCode, 302, retried.body)
  assert.ok(clearsCookie(retried))
  for (const [name, app] of [['A', a], ['B', b]] as const) {
    await waitFor(`the signed-out cookie to be refused on ${name}`, async () => {
      const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
      return response.statusCode === 401 ? true : undefined
    }, { timeoutMs: 2000 })
    await waitFor(`the signed-out access token to be refused on ${name}`, async () => {
      const response = await app.inject({ url: '/me', headers: bearer(accessToken) })
      return response.statusCode === 401 ? true : undefined
    }, { timeoutMs: 2000 })
  }
  assert.equal(await refreshTokenIsLive(idp, refreshToken), false, 'the refresh token is still live at Cognito')
})

test('only a definite "no such session" ends a session: a deleted key is a 401, a failing store a 503', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  const { logger, lines } = capturingLogger()
  const admin = await redis.client()
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides: { sessionStoreTimeout: STORE_TIMEOUT } })
  const first = await login(a, idp)
  const second = await login(a, idp, { username: 'bob' })

  // A store that answers, and whose answer is "no such session".
  assert.equal(await admin.del(sessionKeyOf(prefix, first.jar)), 1)
  const fresh = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides: { sessionStoreTimeout: STORE_TIMEOUT } })
  const gone = await fresh.inject({ url: '/me', headers: { cookie: first.jar.header } })
  assert.equal(gone.statusCode, 401, gone.body)
  assert.equal(gone.json<{ code: string }>().code, 'FST_COGNITO_UNAUTHENTICATED')
  const anonymous = await fresh.inject({ url: '/maybe', headers: { cookie: first.jar.header } })
  assert.equal(anonymous.statusCode, 200)
  assert.deepEqual(anonymous.json(), { sub: null })

  // A store whose reads fail, whatever they throw (the one fault a real server does not produce on demand).
  const failures: Array<[string, () => unknown]> = [
    ['an Error quoting the key', () => new Error(`ERR cannot read ${sessionKeyOf(prefix, second.jar)}`)],
    ['a Redis reply error', () => Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ErrorReply' })],
    ['a string', () => 'connection reset'],
    ['undefined', () => undefined]
  ]
  for (const [kind, failure] of failures) {
    const real = redisStore({ client: await redis.client(), prefix })
    const failing = { ...real, get: async () => { throw failure() } }
    const app = await buildStoreApp(t, idp, { store: failing, logger, overrides: { sessionStoreTimeout: STORE_TIMEOUT } })
    for (const url of ['/me', '/maybe']) {
      const response = await app.inject({ url, headers: { cookie: second.jar.header } })
      assertStoreUnavailable(response, `${url} when get rejects with ${kind}`)
      assert.equal(touchesCookie(response), false, `${url} when get rejects with ${kind}: the cookie was touched`)
    }
    const out = await app.inject(logoutRequest(second.jar))
    assertStoreUnavailable(out, `POST /logout when get rejects with ${kind}`)
    assert.equal(touchesCookie(out), false)
  }
  // The session is intact: the real store still has it.
  const intact = await fresh.inject({ url: '/me', headers: { cookie: second.jar.header } })
  assert.equal(intact.statusCode, 200, intact.body)
  assertNoSecrets(lines.join(''), [sessionKeyOf(prefix, second.jar), ticketOf(second.jar)], 'the log')
})

test('fail-closed revocation list: an instance started while Redis is down answers 503 until the list is loaded', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t, { persistence: true })
  const prefix = uniquePrefix()
  const tokens = tokenRecorder()
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides: { onLogin: tokens.onLogin } })
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  assert.ok(accessToken !== undefined)

  await redis.stop()
  const closed = await buildStoreApp(t, idp, { prefix, client: backgroundClient(t, redis.url), overrides: { sessionStoreTimeout: STORE_TIMEOUT }, ready: false })
  const open = await buildStoreApp(t, idp, { prefix, client: backgroundClient(t, redis.url), overrides: { sessionStoreTimeout: STORE_TIMEOUT, revocationFailOpen: true }, ready: false })
  for (const app of [closed, open]) {
    const started = performance.now()
    await app.ready()
    const ms = performance.now() - started
    assert.ok(ms < 3000, `ready() took ${ms.toFixed(0)} ms with Redis down`)
    t.diagnostic(`ready() with Redis down: ${ms.toFixed(0)} ms`)
  }

  for (let i = 0; i < 3; i++) {
    const refused = await timedInject(closed, { url: '/me', headers: bearer(accessToken) })
    assertStoreUnavailable(refused.response, 'a Bearer request before the list is loaded')
    assert.ok(refused.ms < PROMPT)
  }
  assertStoreUnavailable(await closed.inject({ url: '/me', headers: { cookie: jar.header } }), 'a cookie request with Redis down')
  const failOpen = await open.inject({ url: '/me', headers: bearer(accessToken) })
  assert.equal(failOpen.statusCode, 200, failOpen.body)

  await redis.start()
  const recovered = await waitFor('the list of signed-out tokens to load', async () => {
    const response = await closed.inject({ url: '/me', headers: bearer(accessToken) })
    if (response.statusCode === 200) return response
    assertStoreUnavailable(response, 'a Bearer request while Redis comes back')
    return undefined
  }, { timeoutMs: 10_000, intervalMs: 100 })
  assert.equal(typeof recovered.json<{ sub: unknown }>().sub, 'string')
  const session = await waitFor('the session to be read again', async () => {
    const response = await closed.inject({ url: '/me', headers: { cookie: jar.header } })
    return response.statusCode === 503 ? undefined : response
  }, { timeoutMs: 5000 })
  assert.equal(session.statusCode, 200, session.body)
})

test('an instance closed while Redis is still down stops connecting: its subscription does not outlive it', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  await redis.stop()
  const watched = watchDuplicates(t, backgroundClient(t, redis.url))
  const app = await buildStoreApp(t, idp, { store: redisStore({ client: watched.client, prefix }), overrides: { sessionStoreTimeout: STORE_TIMEOUT } })
  assert.equal(watched.duplicates.length, 1, 'the store opens one connection of its own, for its subscription')
  const subscriber = watched.duplicates[0]!
  assert.equal(subscriber.isOpen, true, 'the subscription is still connecting when the app is ready')
  await app.close()
  // Else node-redis reconnects forever: the connection outlives the app and keeps the process from exiting.
  assert.equal(subscriber.isOpen, false, 'the subscription connection is still connecting after the app closed')
})

/**
 * A and B on one Redis, B connecting as a user of its own, so that Redis can tell B's connections apart and keep
 * B's subscription down (its user disabled, its subscribed connection killed) while A and B's open connection go
 * on working. Every connection is open before the default user is disabled: node-redis sends AUTH and SUBSCRIBE
 * together when it reconnects, and a failed AUTH would otherwise leave B subscribed as the default user.
 */
async function splitFleet (t: TestContext): Promise<{
  idp: LocalCognito
  admin: RedisClientType
  a: FastifyInstance
  b: FastifyInstance
  /** B's subscription events. */
  events: string[]
  user: string
  prefix: string
  tokens: TokenRecorder
}> {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const prefix = uniquePrefix()
  const admin = await redis.client()
  const user = `instance-b-${randomBytes(4).toString('hex')}`
  const password = randomBytes(12).toString('hex')
  await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, '~*', '&*', '+@all'])
  const tokens = tokenRecorder()
  const a = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides: { onLogin: tokens.onLogin, sessionStoreTimeout: STORE_TIMEOUT } })
  const bClient = await connectedClient(t, `redis://${user}:${password}@127.0.0.1:${redis.port}`)
  const observed = observeSubscription(redisStore({ client: bClient, prefix }))
  const b = await buildStoreApp(t, idp, { store: observed.store, overrides: { sessionStoreTimeout: STORE_TIMEOUT } })
  assert.deepEqual(observed.events, ['subscribed'])
  assert.equal(await subscribers(admin, prefix), 2)
  await admin.sendCommand(['ACL', 'SETUSER', 'default', 'off'])
  return { idp, admin, a, b, events: observed.events, user, prefix, tokens }
}

/** Takes B's subscription down and keeps it down; resolves once B has seen it. */
async function cutSubscription (fleet: Awaited<ReturnType<typeof splitFleet>>): Promise<void> {
  const { admin, user, events, prefix } = fleet
  await admin.sendCommand(['ACL', 'SETUSER', user, 'off'])
  const killed = await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub', 'USER', user])
  assert.equal(Number(killed), 1)
  await waitFor('B to see its subscription down', async () => events.includes('down') ? true : undefined)
  assert.equal(await subscribers(admin, prefix), 1)
}

test('pub/sub catch-up: a sign-out B missed while its subscription was down is honoured, and the revocation list is reloaded', async (t) => {
  const fleet = await splitFleet(t)
  const { idp, admin, a, b, events, user, prefix, tokens } = fleet
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  assert.ok(accessToken !== undefined)
  // B caches the session and the verified access token.
  assert.equal((await b.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  assert.equal((await b.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 200)

  await cutSubscription(fleet)
  const out = await a.inject(logoutRequest(jar))
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(await subscribers(admin, prefix), 1, 'B got its subscription back too early')
  // B missed the announcement: it reads the store instead of its cache.
  const missed = await b.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(missed.statusCode, 401, missed.body)
  const replayWhileDown = await b.inject({ url: '/me', headers: bearer(accessToken) })
  t.diagnostic(`a signed-out access token replayed on B while its subscription is down: ${replayWhileDown.statusCode}`)

  // B's user may connect again: B subscribes again by itself, without a restart, and reloads the list.
  await admin.sendCommand(['ACL', 'SETUSER', user, 'on'])
  await waitFor('B to subscribe again', async () => events.at(-1) === 'up' ? true : undefined, { timeoutMs: 5000 })
  assert.equal(await subscribers(admin, prefix), 2)
  await waitFor('B to refuse the signed-out access token', async () => {
    const response = await b.inject({ url: '/me', headers: bearer(accessToken) })
    return response.statusCode === 401 ? true : undefined
  }, { timeoutMs: 3000 })
  const cookieAgain = await b.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(cookieAgain.statusCode, 401)
})

test('pub/sub catch-up: a reload of the revocation list that fails after B resubscribes is retried, B failing closed meanwhile', async (t) => {
  const fleet = await splitFleet(t)
  const { idp, admin, a, b, events, user, tokens } = fleet
  const { jar } = await login(a, idp)
  const accessToken = tokens.accessTokens[0]
  assert.ok(accessToken !== undefined)
  assert.equal((await b.inject({ url: '/me', headers: bearer(accessToken) })).statusCode, 200)

  await cutSubscription(fleet)
  assert.equal((await a.inject(logoutRequest(jar))).statusCode, 302)

  // B may subscribe again, but not yet read the list (a real Redis error: NOPERM).
  await admin.sendCommand(['ACL', 'SETUSER', user, 'on', '-eval'])
  await waitFor('B to subscribe again', async () => events.at(-1) === 'up' ? true : undefined, { timeoutMs: 5000 })
  // The list is not known again until it is loaded: B fails closed instead of trusting the list it had.
  for (let i = 0; i < 3; i++) {
    const meanwhile = await b.inject({ url: '/me', headers: bearer(accessToken) })
    assert.notEqual(meanwhile.statusCode, 200, 'B let a signed-out token through with a stale revocation list')
    assertStoreUnavailable(meanwhile, 'a Bearer request while B cannot load the list')
  }
  await admin.sendCommand(['ACL', 'SETUSER', user, '+eval'])
  await waitFor('B to refuse the signed-out access token', async () => {
    const response = await b.inject({ url: '/me', headers: bearer(accessToken) })
    return response.statusCode === 401 ? true : undefined
  }, { timeoutMs: 5000, intervalMs: 100 })
})
