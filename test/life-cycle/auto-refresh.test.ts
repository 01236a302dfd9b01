import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, login, startIdp } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { startFakeCognito } from '../helpers/fake-cognito.js'

// Time moves by hand: the IdP and every app of a test share one clock (`now`), so a token expires when the test
// says so, not after a sleep.

type Idp = Awaited<ReturnType<typeof startIdp>>

/** An IdP whose access tokens live 1 second on a clock the test moves, and a way to move it past the current one. */
async function idpWithShortTokens (t: Parameters<typeof startIdp>[0]): Promise<{ idp: Idp, clock: ManualClock, expire: () => void }> {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  for (const client of idp.clients) client.accessTokenValiditySeconds = 1
  return { idp, clock, expire: () => { clock.advance(1.1) } }
}

// The apps under test accept no clock skew, so a token is expired as soon as its second has passed. Sign-ins go
// through an app with the default tolerance (same session secret and clock).
const strictClock = (clock: ManualClock): { clockTolerance: number, now: () => number } => ({ clockTolerance: 0, now: clock.now })

async function signIn (t: Parameters<typeof startIdp>[0], idp: Idp, clock: ManualClock): Promise<Awaited<ReturnType<typeof login>>> {
  return await login(await buildApp(t, idp, 'public', { now: clock.now }), idp)
}

test('an expired access token in the session is refreshed by the guard, which sets the new cookies and goes on', async (t) => {
  const { idp, clock, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock(clock))
  const { jar } = await signIn(t, idp, clock)
  expire()
  for (const client of idp.clients) client.accessTokenValiditySeconds = 3600
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.ok(response.cookies.some((cookie: { name: string }) => cookie.name.startsWith('cognito_session.')), 'new cookies on this response')
  jar.store(response)
  assert.ok(response.json().tokenPayload.exp > clock.now() / 1000)
  const again = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(again.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1, 'the new cookies carry the new token')
})

test('single flight: 50 parallel requests of one session with an expired token cause exactly one token call', async (t) => {
  const { idp, clock, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock(clock))
  const { jar } = await signIn(t, idp, clock)
  expire()
  for (const client of idp.clients) client.accessTokenValiditySeconds = 3600
  const responses = await Promise.all(Array.from({ length: 50 }, async () => await app.inject({ url: '/me', headers: { cookie: jar.header } })))
  assert.deepEqual([...new Set(responses.map((response) => response.statusCode))], [200])
  assert.equal(idp.requests.tokenRefresh, 1)
  const jtis = new Set(responses.map((response) => response.json().tokenPayload.jti))
  assert.equal(jtis.size, 1, 'all got the same new access token')
})

test('a token about to expire (within refreshSkew) is refreshed ahead of time', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = await buildApp(t, idp, 'public', { refreshSkew: 1800, now: clock.now })
  const { jar } = await signIn(t, idp, clock)
  // The 1-hour token has 1600 s left: inside the 1800-s skew (which is under half its lifetime, the cap).
  clock.advance(2000)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('invalid_grant during an automatic refresh ends the session: cookies cleared, 401 or login redirect', async (t) => {
  const { idp, clock, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock(clock))
  const { jar } = await signIn(t, idp, clock)
  expire()
  idp.revokeAllSessions()
  const api = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(api.statusCode, 401)
  assert.equal(api.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.ok(api.cookies.some((cookie: { name: string, maxAge?: number }) => cookie.name.startsWith('cognito_session.') && cookie.maxAge === 0))
  const browser = await app.inject({ url: '/me', headers: { cookie: jar.header, accept: 'text/html' } })
  assert.equal(browser.statusCode, 302)
  assert.match(browser.headers.location as string, /^\/login\?returnTo=/)
})

test('a network fault during an automatic refresh keeps the session (503/502, the user may retry)', async (t) => {
  const { idp, clock, expire } = await idpWithShortTokens(t)
  const fake = await startFakeCognito(t, { token: async (_request, reply) => await reply.code(503).send('unavailable') })
  const { jar } = await signIn(t, idp, clock)
  expire()
  const app = await buildApp(t, idp, 'public', { ...strictClock(clock), domain: fake.domain })
  app.log.level = 'silent'
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 502)
  assert.equal(response.headers['set-cookie'], undefined, 'no cookie is touched')
  assert.equal(fake.calls.token, 1)
})

test('a network fault while the token is merely about to expire serves the request with the current token', async (t) => {
  const idp = await startIdp(t)
  const fake = await startFakeCognito(t, { token: async (_request, reply) => await reply.code(503).send('unavailable') })
  const { jar } = await login(await buildApp(t, idp), idp)
  // The app's clock runs 2000 s ahead: the 1-hour token has 1600 s left, inside the 1800-s skew.
  const app = await buildApp(t, idp, 'public', { domain: fake.domain, refreshSkew: 1800, now: () => Date.now() + 2_000_000 })
  app.log.level = 'silent'
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(fake.calls.token, 1)
})

test('autoRefresh: false answers an expired session with 401 FST_COGNITO_TOKEN_EXPIRED', async (t) => {
  const { idp, clock, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', { ...strictClock(clock), autoRefresh: false })
  const { jar } = await signIn(t, idp, clock)
  expire()
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_TOKEN_EXPIRED')
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('maxSessionAge: after it the user signs in again even though refresh would work', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  // createdAt has whole seconds: 3 s leave room for the refresh at ~1 s to happen inside the sign-in's life.
  const app = await buildApp(t, idp, 'public', { maxSessionAge: 3, now: clock.now })
  const { jar } = await login(app, idp)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  clock.advance(1)
  // A refresh rewrites the cookies, but does not extend the sign-in.
  const early = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(early.statusCode, 200)
  jar.store(early)
  clock.advance(2.2)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 401)
  assert.equal(idp.requests.tokenRefresh, 1)
})
