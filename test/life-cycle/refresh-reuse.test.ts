import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CookieJar, login, pluginOptions, startIdp, type TestOptions } from '../helpers/app.js'
import { cookieForger, type CookieForger } from '../helpers/session-cookie.js'

// Issue 11, "Automatic refresh serves an expired token": SessionRefresher remembered a finished refresh for 30 s
// under the refresh token it used and handed it to any request presenting that refresh token, also to requests
// that already carried the new cookie and after the remembered access token had expired. With 2-second tokens,
// the guard refreshed once and then answered 401 FST_COGNITO_TOKEN_EXPIRED without calling the token endpoint.
// The reuse must serve only requests still carrying the session that was refreshed away, while the remembered
// tokens are fresh; and a refreshSkew longer than the token's lifetime must not refresh on every request.
//
// The app and the IdP share one clock, moved by the tests: no test sleeps.

/** lib/session/refresh.ts: the skew is capped at this part of the token's lifetime. */
const MAX_SKEW_SHARE = 0.5

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  forger: CookieForger
  clock: { now: number }
  jar: CookieJar
}

async function signedIn (t: TestContext, { lifetime, rotation, plugin = {} }: { lifetime: number, rotation: boolean, plugin?: Partial<TestOptions> }): Promise<Harness> {
  // Start a tenth of a second into a whole second, so token times (whole seconds) fall where the test expects.
  const clock = { now: Math.ceil(Date.now() / 1000) * 1000 + 100 }
  const idp = await startIdp(t, { now: () => clock.now })
  for (const client of idp.clients) {
    client.accessTokenValiditySeconds = lifetime
    client.refreshTokenRotation = rotation
  }
  const options = pluginOptions(idp, 'public', { now: () => clock.now, ...plugin })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ jti: request.tokenPayload?.jti, exp: request.tokenPayload?.exp }))
  await app.ready()
  const { jar } = await login(app, idp)
  assert.equal(idp.requests.tokenRefresh, 0)
  return { idp, app, forger: cookieForger(options), clock, jar }
}

/** The session the jar carries now: its access token's expiry and issue time, epoch seconds. */
function presented ({ forger, jar, clock }: Harness): { expiresAt: number, issuedAt: number, accessToken: string } {
  const session = forger.openSession(jar.header, clock.now / 1000)
  assert.ok(session !== undefined)
  return session as { expiresAt: number, issuedAt: number, accessToken: string }
}

async function me (h: Harness, jar: CookieJar = h.jar): Promise<LightMyRequestResponse> {
  const response = await h.app.inject({ url: '/me', headers: { cookie: jar.header } })
  jar.store(response)
  return response
}

for (const rotation of [false, true]) {
  test(`2-second tokens, default refreshSkew, rotation ${rotation ? 'on' : 'off'}: 10 s of requests every 100 ms, all 200, one token call per due point`, async (t) => {
    const h = await signedIn(t, { lifetime: 2, rotation })
    let duePoints = 0
    const statuses = new Map<number, number>()
    for (let step = 0; step < 100; step++) {
      h.clock.now += 100
      const now = h.clock.now / 1000
      const session = presented(h)
      const lifetime = session.expiresAt - session.issuedAt
      const due = now >= session.expiresAt - Math.min(30, lifetime * MAX_SKEW_SHARE)
      if (due) duePoints++
      const callsBefore = h.idp.requests.tokenRefresh
      const response = await me(h)
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      assert.equal(response.statusCode, 200, `step ${step}: ${response.body}`)
      assert.equal(h.idp.requests.tokenRefresh - callsBefore, due ? 1 : 0, `step ${step} (t+${(step + 1) / 10} s): ${due ? 'due: one' : 'not due: no'} token call`)
      assert.ok(response.json().exp > now, `step ${step}: the token served has not expired`)
      if (due) assert.notEqual(presented(h).accessToken, session.accessToken, 'the new cookies carry the new token')
    }
    t.diagnostic(`rotation ${rotation ? 'on' : 'off'}: ${h.idp.requests.tokenRefresh} token calls for ${duePoints} due points in 10 s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
    assert.equal(h.idp.requests.tokenRefresh, duePoints)
    assert.ok(duePoints >= 9 && duePoints <= 11, `about one refresh per second (${duePoints})`)
  })
}

test('a refreshSkew longer than the token lifetime (60-s tokens, skew 3600) does not refresh on every request', async (t) => {
  const h = await signedIn(t, { lifetime: 60, rotation: false, plugin: { refreshSkew: 3600 } })
  for (let i = 0; i < 10; i++) {
    h.clock.now += 100
    assert.equal((await me(h)).statusCode, 200)
  }
  assert.equal(h.idp.requests.tokenRefresh, 0, '10 requests right after sign-in: no refresh')
  // Half-way through its life the token is due (the skew is capped), and one refresh serves the next requests.
  h.clock.now += 31_000
  for (let i = 0; i < 10; i++) {
    h.clock.now += 100
    assert.equal((await me(h)).statusCode, 200)
  }
  assert.equal(h.idp.requests.tokenRefresh, 1)
})

test('a request with the new cookie whose token is due again refreshes again instead of reusing the remembered result', async (t) => {
  const h = await signedIn(t, { lifetime: 2, rotation: false })
  h.clock.now += 1100
  const first = await me(h)
  assert.equal(first.statusCode, 200)
  assert.equal(h.idp.requests.tokenRefresh, 1)
  const firstJti = first.json().jti
  // One second later the new token is due in turn, well inside the 30 s the first result is remembered.
  h.clock.now += 1000
  const second = await me(h)
  assert.equal(second.statusCode, 200)
  assert.equal(h.idp.requests.tokenRefresh, 2, 'a second token call')
  assert.notEqual(second.json().jti, firstJti, 'a new token, not the remembered one')
  // Past the remembered token's expiry: still a refresh, never a 401.
  h.clock.now += 1500
  const third = await me(h)
  assert.equal(third.statusCode, 200, third.body)
  assert.equal(h.idp.requests.tokenRefresh, 3)
})

for (const rotation of [false, true]) {
  test(`rotation ${rotation ? 'on' : 'off'}: the old cookie gets the remembered tokens within 30 s without a token call, and not after`, async (t) => {
    const h = await signedIn(t, { lifetime: 3600, rotation })
    const old = h.jar.clone()
    h.clock.now += 3575_000
    const refreshed = await me(h)
    assert.equal(refreshed.statusCode, 200)
    assert.equal(h.idp.requests.tokenRefresh, 1)
    const newJti = refreshed.json().jti

    // A request sent with the old cookie (before the browser stored the new one), 20 s later.
    h.clock.now += 20_000
    const late = old.clone()
    const reused = await me(h, late)
    assert.equal(reused.statusCode, 200)
    assert.equal(reused.json().jti, newJti, 'the remembered tokens')
    assert.equal(h.idp.requests.tokenRefresh, 1, 'no token call')
    assert.equal(presented({ ...h, jar: late }).accessToken, presented(h).accessToken, 'and the same new cookies')

    // 31 s after the refresh the old cookie no longer gets them.
    h.clock.now += 11_000
    const after = await me(h, old.clone())
    assert.equal(h.idp.requests.tokenRefresh, 2, 'a token call with the old refresh token')
    if (rotation) {
      // That refresh token was rotated away (grace period 0): Cognito refuses it and the copy's session ends.
      assert.equal(after.statusCode, 401)
      assert.equal(after.json().code, 'FST_COGNITO_SESSION_EXPIRED')
    } else {
      assert.equal(after.statusCode, 200)
      assert.notEqual(after.json().jti, newJti, 'new tokens of its own')
    }
  })
}
