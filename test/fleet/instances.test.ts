import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { APP_ORIGIN, bearer, CLIENT_IDS, login, startIdp, type CookieJar } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { buildFleet, buildInstance, callsBetween, captureLogins, commandCalls, sidOf, waitFor } from './helpers.js'

/**
 * Three instances of one app (A, B, C) on one Redis and one local Cognito, talking over HTTP (inject) as a browser
 * behind a load balancer would: a session made on one instance is the session of every instance, and a sign-out on
 * one is a sign-out on all of them, cookie and access token alike.
 */

const PREFIX = `fastify-cognito:${CLIENT_IDS.public}:`

async function me (app: FastifyInstance, headers: Record<string, string>): Promise<{ statusCode: number, sub: string | undefined, body: string }> {
  const response = await app.inject({ url: '/me', headers })
  const sub = response.statusCode === 200 ? (response.json<{ sub: string }>()).sub : undefined
  return { statusCode: response.statusCode, sub, body: response.body }
}

function setCookies (response: { headers: Record<string, unknown> }): string[] {
  const header = response.headers['set-cookie']
  return header === undefined ? [] : Array.isArray(header) ? header.map(String) : [String(header)]
}

async function logoutOn (app: FastifyInstance, jar: CookieJar): Promise<void> {
  const out = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
}

test('a session made on A is read on B and C with one small ticket cookie; a sign-out on C is refused on every instance within 100 ms, and by an instance started after it', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const captured = captureLogins()
  const [a, b, c] = await buildFleet(t, idp, redis, 3, { onLogin: captured.onLogin }) as [FastifyInstance, FastifyInstance, FastifyInstance]
  const fleet = { A: a, B: b, C: c }

  const { jar, callback } = await login(a, idp)
  const alice = captured.last()
  assert.equal(alice.username, 'alice')

  // One cookie, the ticket: small, whatever the tokens weigh; no chunk of the cookie store.
  const cookies = setCookies(callback)
  const ticketCookie = cookies.filter((cookie) => cookie.startsWith('cognito_sid='))
  assert.equal(ticketCookie.length, 1, cookies.join('\n'))
  const ticketLine = ticketCookie[0] as string
  assert.ok(Buffer.byteLength(ticketLine) < 200, `Set-Cookie of cognito_sid is ${Buffer.byteLength(ticketLine)} bytes: ${ticketLine}`)
  assert.equal(jar.cookies.get('cognito_sid')?.length, 87, 'the ticket is <sid>.<secret>, 43 + 1 + 43 characters')
  assert.deepEqual(cookies.filter((cookie) => /^cognito_session\.\d/.test(cookie)), [])
  assert.deepEqual([...jar.cookies.keys()], ['cognito_sid'])
  assert.ok(alice.accessToken.length + (alice.idToken?.length ?? 0) + (alice.refreshToken?.length ?? 0) > 1000, 'the tokens themselves are far larger than the cookie')
  t.diagnostic(`Set-Cookie of cognito_sid: ${Buffer.byteLength(ticketLine)} bytes; tokens: ${alice.accessToken.length + (alice.idToken?.length ?? 0) + (alice.refreshToken?.length ?? 0)} bytes`)

  // The same session, the same user, on every instance; the raw access token works as a Bearer token too (and is
  // now in each verifier's cache: the sign-out must reach cached tokens).
  for (const [name, app] of Object.entries(fleet)) {
    const byCookie = await me(app, { cookie: jar.header })
    assert.equal(byCookie.statusCode, 200, `${name}: ${byCookie.body}`)
    assert.equal(byCookie.sub, alice.sub, name)
    const byBearer = await me(app, bearer(alice.accessToken))
    assert.equal(byBearer.statusCode, 200, `${name}: ${byBearer.body}`)
    assert.equal(byBearer.sub, alice.sub, name)
  }

  // bob, on the same fleet: his session and token must survive alice's sign-out.
  const bobLogin = await login(b, idp, { username: 'bob' })
  const bob = captured.last()
  assert.equal(bob.username, 'bob')

  // The refusals' own paths, warmed up on every instance, so that the timing below is the sign-out's.
  for (const app of Object.values(fleet)) {
    assert.equal((await me(app, {})).statusCode, 401)
    assert.equal((await me(app, { cookie: `cognito_sid=${'A'.repeat(43)}.${'B'.repeat(43)}` })).statusCode, 401)
  }

  const revokesBefore = idp.requests.revoke
  const sent = performance.now()
  await logoutOn(c, jar)
  const answered = performance.now()
  assert.equal(idp.requests.revoke, revokesBefore + 1, 'the refresh token is revoked at Cognito')

  // Poll every instance from the moment the sign-out answered until it refuses both the cookie and the token.
  const propagation: Record<string, { cookie: number, bearer: number, polls: number }> = {}
  await Promise.all(Object.entries(fleet).map(async ([name, app]) => {
    let polls = 0
    const refusedAfter = async (headers: Record<string, string>, what: string): Promise<number> => {
      await waitFor(async () => {
        polls++
        return (await me(app, headers)).statusCode === 401
      }, `${name} refuses the signed-out ${what}`)
      return performance.now() - answered
    }
    const [cookie, token] = await Promise.all([refusedAfter({ cookie: jar.header }, 'cookie'), refusedAfter(bearer(alice.accessToken), 'access token')])
    propagation[name] = { cookie, bearer: token, polls }
  }))
  t.diagnostic(`sign-out on C: ${(answered - sent).toFixed(1)} ms; refused after the response (ms, polls of cookie and token together): ${JSON.stringify(propagation, (_key, value: unknown) => typeof value === 'number' ? Number(value.toFixed(2)) : value)}`)
  for (const [name, times] of Object.entries(propagation)) {
    assert.ok(times.cookie <= 100, `${name} refused the cookie ${times.cookie.toFixed(1)} ms after the sign-out answered`)
    assert.ok(times.bearer <= 100, `${name} refused the access token ${times.bearer.toFixed(1)} ms after the sign-out answered`)
  }

  // Refused for good (401, not a 503 of a store fault), and bob is untouched.
  for (const [name, app] of Object.entries(fleet)) {
    assert.equal((await me(app, { cookie: jar.header })).statusCode, 401, name)
    assert.equal((await me(app, bearer(alice.accessToken))).statusCode, 401, name)
    const bobCookie = await me(app, { cookie: bobLogin.jar.header })
    assert.equal(bobCookie.statusCode, 200, `${name}: ${bobCookie.body}`)
    assert.equal(bobCookie.sub, bob.sub)
    assert.equal((await me(app, bearer(bob.accessToken))).statusCode, 200, name)
  }
  assert.equal(await (await redis.client()).exists(`${PREFIX}s:{${sidOf(jar)}}`), 0, 'the session is gone from Redis')

  // D starts after the sign-out: it never saw the message, it loads the list of signed-out tokens at start.
  const d = await buildInstance(t, idp, redis)
  const late = await me(d, bearer(alice.accessToken))
  assert.equal(late.statusCode, 401, late.body)
  assert.equal((await me(d, { cookie: jar.header })).statusCode, 401)
  // ... while it takes a valid token (the refusal is the revocation, not D's setup).
  const bobOnD = await me(d, bearer(bob.accessToken))
  assert.equal(bobOnD.statusCode, 200, bobOnD.body)
  assert.equal((await me(d, { cookie: bobLogin.jar.header })).statusCode, 200)
})

/** Two sessions of alice (one made on A, one on B) and one of bob (on C), with their tokens. */
async function twoSessionsOfAlice (t: TestContext, idp: LocalCognito): Promise<{
  fleet: [FastifyInstance, FastifyInstance, FastifyInstance]
  alice: Array<{ jar: CookieJar, accessToken: string, refreshToken: string }>
  bob: { jar: CookieJar, accessToken: string }
  aliceSub: string
}> {
  const redis = await startRedis(t)
  const captured = captureLogins()
  const fleet = await buildFleet(t, idp, redis, 3, { onLogin: captured.onLogin }) as [FastifyInstance, FastifyInstance, FastifyInstance]
  const [a, b, c] = fleet
  const alice: Array<{ jar: CookieJar, accessToken: string, refreshToken: string }> = []
  for (const app of [a, b]) {
    const { jar } = await login(app, idp)
    const tokens = captured.last()
    assert.ok(tokens.refreshToken !== undefined)
    alice.push({ jar, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken })
  }
  assert.notEqual(sidOf(alice[0]!.jar), sidOf(alice[1]!.jar))
  const bobLogin = await login(c, idp, { username: 'bob' })
  const bob = { jar: bobLogin.jar, accessToken: captured.last().accessToken }
  const aliceSub = captured.logins[0]!.sub
  for (const app of fleet) {
    for (const session of alice) assert.equal((await me(app, { cookie: session.jar.header })).statusCode, 200)
    assert.equal((await me(app, { cookie: bob.jar.header })).statusCode, 200)
  }
  return { fleet, alice, bob, aliceSub }
}

/** Whether Cognito still takes a refresh token (a direct refresh_token grant of the public client). */
async function refreshTokenWorks (idp: LocalCognito, refreshToken: string): Promise<boolean> {
  const response = await fetch(`${idp.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_IDS.public, refresh_token: refreshToken })
  })
  await response.arrayBuffer()
  return response.status === 200
}

/** Every instance refuses both of alice's sessions and tokens (bounded wait for the fleet's messages); bob is untouched. */
async function assertAliceEndedEverywhere (setup: Awaited<ReturnType<typeof twoSessionsOfAlice>>, idp: LocalCognito): Promise<void> {
  for (const [i, app] of setup.fleet.entries()) {
    for (const session of setup.alice) {
      await waitFor(async () => (await me(app, { cookie: session.jar.header })).statusCode === 401, `instance ${i} refuses alice's session`)
      await waitFor(async () => (await me(app, bearer(session.accessToken))).statusCode === 401, `instance ${i} refuses alice's access token`)
    }
    const bobCookie = await me(app, { cookie: setup.bob.jar.header })
    assert.equal(bobCookie.statusCode, 200, bobCookie.body)
    assert.equal((await me(app, bearer(setup.bob.accessToken))).statusCode, 200)
  }
  for (const session of setup.alice) assert.equal(await refreshTokenWorks(idp, session.refreshToken), false, 'alice\'s refresh tokens are revoked at Cognito')
}

test('request.cognito.logoutEverywhere() on A ends both of alice\'s sessions (made on A and B) on every instance and revokes their refresh tokens; bob stays signed in', async (t) => {
  const idp = await startIdp(t)
  const setup = await twoSessionsOfAlice(t, idp)
  const [a] = setup.fleet
  const revokesBefore = idp.requests.revoke
  const out = await a.inject({ method: 'POST', url: '/logout-everywhere', headers: { cookie: setup.alice[0]!.jar.header } })
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(idp.requests.revoke, revokesBefore + 2, 'one revocation per session of alice, none of bob\'s')
  await assertAliceEndedEverywhere(setup, idp)
})

test('app.cognito.endSessions(sub) ends every session of a user on every instance from outside a request and resolves to the number ended', async (t) => {
  const idp = await startIdp(t)
  const setup = await twoSessionsOfAlice(t, idp)
  const [, b] = setup.fleet
  const revokesBefore = idp.requests.revoke
  assert.equal(await b.cognito.endSessions(setup.aliceSub), 2)
  assert.equal(idp.requests.revoke, revokesBefore + 2)
  await assertAliceEndedEverywhere(setup, idp)
  assert.equal(await b.cognito.endSessions(setup.aliceSub), 0, 'nothing left to end')
  assert.equal(idp.requests.revoke, revokesBefore + 2)
})

test('repeated guarded requests of a session on one instance send no command to Redis', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const captured = captureLogins()
  const [a, b] = await buildFleet(t, idp, redis, 2, { onLogin: captured.onLogin }) as [FastifyInstance, FastifyInstance]
  const { jar } = await login(a, idp)
  const { accessToken } = captured.last()
  // B reads the session once (it has never seen it); A keeps the one it wrote at sign-in.
  assert.equal((await me(b, { cookie: jar.header })).statusCode, 200)

  // What reading the statistics costs by itself (the probe's own INFO): nothing else may change.
  const first = await commandCalls(redis)
  const second = await commandCalls(redis)
  const probe = callsBetween(first, second)
  assert.deepEqual(Object.keys(probe), ['info'])

  const started = performance.now()
  for (let i = 0; i < 50; i++) {
    const response = await me(b, { cookie: jar.header })
    assert.equal(response.statusCode, 200, response.body)
  }
  const elapsed = performance.now() - started
  for (let i = 0; i < 50; i++) assert.equal((await me(a, { cookie: jar.header })).statusCode, 200)
  for (let i = 0; i < 50; i++) assert.equal((await me(b, bearer(accessToken))).statusCode, 200)
  const third = await commandCalls(redis)
  assert.deepEqual(callsBetween(second, third), probe, 'the only command is the probe\'s INFO')
  t.diagnostic(`50 guarded requests on B: ${elapsed.toFixed(1)} ms, 0 Redis commands (Redis saw ${JSON.stringify(callsBetween(second, third))} during 150 requests)`)

  // The probe would have seen a read: a session B does not hold in memory costs one GET.
  const other = await login(a, idp, { username: 'bob' })
  const beforeRead = await commandCalls(redis)
  assert.equal((await me(b, { cookie: other.jar.header })).statusCode, 200)
  const read = callsBetween(beforeRead, await commandCalls(redis))
  assert.equal(read.get, 1, JSON.stringify(read))
})
