import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { APP_ORIGIN, CLIENT_IDS, LOGOUT_URI, REDIRECT_URI, SECURE_REDIRECT_URI, login, startIdp, type CookieJar } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildFleet, buildInstance, captureLogins, sidOf } from './helpers.js'

/**
 * One refresh across the fleet: with refresh-token rotation and no grace period (a refresh token works exactly
 * once), a session whose access token expired, hit by many concurrent requests on three instances, is refreshed at
 * Cognito once; every request gets the new tokens and the session goes on everywhere. A second refresh proves the
 * rotated token is the one kept. And a refresh never brings back a session that was signed out.
 */

const PREFIX = `fastify-cognito:${CLIENT_IDS.public}:`
const ACCESS_TOKEN_SECONDS = 600
const callbackUrls = [REDIRECT_URI, SECURE_REDIRECT_URI]

/** A response that clears the ticket cookie (a sign-out). */
function clearsTicket (response: LightMyRequestResponse): boolean {
  return (response.cookies as Array<{ name: string, value: string, maxAge?: number }>).some((cookie) => cookie.name === 'cognito_sid' && (cookie.value === '' || cookie.maxAge === 0))
}

/** 20 concurrent guarded requests of the session on each instance, all at once. */
async function stampede (fleet: FastifyInstance[], jar: CookieJar): Promise<LightMyRequestResponse[]> {
  return await Promise.all(fleet.flatMap((app) => Array.from({ length: 20 }, async () => await app.inject({ url: '/me', headers: { cookie: jar.header } }))))
}

test('60 concurrent requests of an expired session on three instances cause one refresh at Cognito, all answer 200, and the session goes on everywhere', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, {
    now: clock.now,
    clients: [{ clientId: CLIENT_IDS.public, callbackUrls, logoutUrls: [LOGOUT_URI], refreshTokenRotation: true, rotationGracePeriodSeconds: 0, accessTokenValiditySeconds: ACCESS_TOKEN_SECONDS }]
  })
  const redis = await startRedis(t)
  const probe = await redis.client()
  const captured = captureLogins()
  const fleet = await buildFleet(t, idp, redis, 3, { now: clock.now, onLogin: captured.onLogin })
  const { jar } = await login(fleet[0]!, idp)
  const alice = captured.last()
  const sid = sidOf(jar)
  for (const app of fleet) assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  for (const round of [1, 2]) {
    // Past the access token's expiry (and the ID token's): every instance must refresh before it answers.
    clock.advance(ACCESS_TOKEN_SECONDS + 60)
    const refreshes = idp.requests.tokenRefresh
    const started = performance.now()
    const responses = await stampede(fleet, jar)
    const elapsed = performance.now() - started
    t.diagnostic(`round ${round}: 60 requests on 3 instances in ${elapsed.toFixed(0)} ms, ${idp.requests.tokenRefresh - refreshes} refresh at Cognito`)
    assert.deepEqual(responses.map((response) => response.statusCode), Array(60).fill(200), responses.find((response) => response.statusCode !== 200)?.body)
    for (const response of responses) assert.equal(response.json<{ sub: string }>().sub, alice.sub)
    assert.equal(idp.requests.tokenRefresh, refreshes + 1, 'one refresh at Cognito for the whole fleet')
    assert.equal(responses.filter(clearsTicket).length, 0, 'nobody was signed out')

    // Afterwards the session works on every instance without another refresh, and no lock is left behind.
    for (const app of fleet) {
      const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
      assert.equal(me.statusCode, 200, me.body)
    }
    assert.equal(idp.requests.tokenRefresh, refreshes + 1)
    assert.equal(await probe.exists(`${PREFIX}s:{${sid}}`), 1)
    assert.equal(await probe.exists(`${PREFIX}l:{${sid}}`), 0, 'the refresh lock is released')
  }
  // Round 2 could refresh only because the fleet kept the refresh token round 1 rotated to: the first one is dead.
  const response = await fetch(`${idp.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_IDS.public, refresh_token: alice.refreshToken ?? '' })
  })
  assert.equal(response.status, 400)
  assert.equal((await response.json() as { error: string }).error, 'invalid_grant')
})

test('a refresh after a sign-out does not bring the session back: POST /refresh answers 401, no call to Cognito, no key in Redis', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const [a, b] = await buildFleet(t, idp, redis, 2) as [FastifyInstance, FastifyInstance]
  const { jar } = await login(a, idp)
  const sid = sidOf(jar)
  assert.equal(await probe.exists(`${PREFIX}s:{${sid}}`), 1)

  const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  const refreshes = idp.requests.tokenRefresh
  for (const app of [a, b]) {
    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })
    assert.equal(refresh.statusCode, 401, refresh.body)
  }
  assert.equal(idp.requests.tokenRefresh, refreshes)
  assert.equal(await probe.exists(`${PREFIX}s:{${sid}}`), 0)
  assert.equal((await a.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
})

test('a sign-out on B while A is refreshing the session at Cognito wins: A does not store the new tokens (replace only writes an existing key)', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const b = await buildInstance(t, idp, redis)
  const browser: { jar?: CookieJar } = {}
  let signedOutDuringRefresh = false
  // onRefresh runs after Cognito answered and before A stores the result: the sign-out lands exactly in between.
  const a = await buildInstance(t, idp, redis, {
    onRefresh: async () => {
      if (browser.jar === undefined || signedOutDuringRefresh) return
      const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: browser.jar.header, origin: APP_ORIGIN } })
      assert.equal(out.statusCode, 302, out.body)
      signedOutDuringRefresh = true
    }
  })
  const { jar } = await login(a, idp)
  browser.jar = jar
  const sid = sidOf(jar)
  const refreshes = idp.requests.tokenRefresh

  const refresh = await a.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(signedOutDuringRefresh, true)
  assert.equal(idp.requests.tokenRefresh, refreshes + 1, 'Cognito did answer the refresh')
  assert.equal(refresh.statusCode, 401, refresh.body)
  assert.equal(refresh.json<{ code: string }>().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(clearsTicket(refresh), true)
  assert.equal(await probe.exists(`${PREFIX}s:{${sid}}`), 0, 'the refresh did not write the session back')
  assert.equal(await probe.exists(`${PREFIX}l:{${sid}}`), 0)
  for (const app of [a, b]) assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
  assert.equal(idp.requests.tokenRefresh, refreshes + 1)
})
