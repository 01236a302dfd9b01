import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp, login, startIdp } from '../helpers/app.js'
import { startFakeCognito } from '../helpers/fake-cognito.js'

type Idp = Awaited<ReturnType<typeof startIdp>>

/** An IdP whose access tokens live 1 second, and a way to wait until the current one has expired. */
async function idpWithShortTokens (t: Parameters<typeof startIdp>[0]): Promise<{ idp: Idp, expire: () => Promise<void> }> {
  const idp = await startIdp(t)
  for (const client of idp.clients) client.accessTokenValiditySeconds = 1
  return { idp, expire: async () => { await sleep(1100) } }
}

// The apps under test accept no clock skew, so a token is expired as soon as its second has passed. Sign-ins go
// through an app with the default tolerance (same session secret), so a slow machine cannot expire the token
// between the IdP and the callback.
const strictClock = { clockTolerance: 0 }

async function signIn (t: Parameters<typeof startIdp>[0], idp: Idp): Promise<Awaited<ReturnType<typeof login>>> {
  return await login(await buildApp(t, idp), idp)
}

test('an expired access token in the session is refreshed by the guard, which sets the new cookies and goes on', async (t) => {
  const { idp, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock)
  const { jar } = await signIn(t, idp)
  await expire()
  for (const client of idp.clients) client.accessTokenValiditySeconds = 3600
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.ok(response.cookies.some((cookie: { name: string }) => cookie.name.startsWith('cognito_session.')), 'new cookies on this response')
  jar.store(response)
  assert.ok(response.json().tokenPayload.exp > Date.now() / 1000)
  const again = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(again.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1, 'the new cookies carry the new token')
})

test('single flight: 50 parallel requests of one session with an expired token cause exactly one token call', async (t) => {
  const { idp, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock)
  const { jar } = await signIn(t, idp)
  await expire()
  for (const client of idp.clients) client.accessTokenValiditySeconds = 3600
  const responses = await Promise.all(Array.from({ length: 50 }, async () => await app.inject({ url: '/me', headers: { cookie: jar.header } })))
  assert.deepEqual([...new Set(responses.map((response) => response.statusCode))], [200])
  assert.equal(idp.requests.tokenRefresh, 1)
  const jtis = new Set(responses.map((response) => response.json().tokenPayload.jti))
  assert.equal(jtis.size, 1, 'all got the same new access token')
})

test('a token about to expire (within refreshSkew) is refreshed ahead of time', async (t) => {
  const idp = await startIdp(t)
  // The app's clock runs 2000 s ahead: the 1-hour token has 1600 s left, inside the 1800-s skew.
  const app = await buildApp(t, idp, 'public', { refreshSkew: 1800, now: () => Date.now() + 2_000_000 })
  const { jar } = await signIn(t, idp)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('invalid_grant during an automatic refresh ends the session: cookies cleared, 401 or login redirect', async (t) => {
  const { idp, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', strictClock)
  const { jar } = await signIn(t, idp)
  await expire()
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
  const { idp, expire } = await idpWithShortTokens(t)
  const fake = await startFakeCognito(t, { token: async (_request, reply) => await reply.code(503).send('unavailable') })
  const { jar } = await signIn(t, idp)
  await expire()
  const app = await buildApp(t, idp, 'public', { ...strictClock, domain: fake.domain })
  app.log.level = 'silent'
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 502)
  assert.equal(response.headers['set-cookie'], undefined, 'no cookie is touched')
  assert.equal(fake.calls.token, 1)
})

test('a network fault while the token is merely about to expire serves the request with the current token', async (t) => {
  const idp = await startIdp(t)
  const fake = await startFakeCognito(t, { token: async (_request, reply) => await reply.code(503).send('unavailable') })
  const { jar } = await signIn(t, idp)
  const app = await buildApp(t, idp, 'public', { domain: fake.domain, refreshSkew: 1800, now: () => Date.now() + 2_000_000 })
  app.log.level = 'silent'
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.equal(fake.calls.token, 1)
})

test('autoRefresh: false answers an expired session with 401 FST_COGNITO_TOKEN_EXPIRED', async (t) => {
  const { idp, expire } = await idpWithShortTokens(t)
  const app = await buildApp(t, idp, 'public', { ...strictClock, autoRefresh: false })
  const { jar } = await signIn(t, idp)
  await expire()
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_TOKEN_EXPIRED')
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('maxSessionAge: after it the user signs in again even though refresh would work', async (t) => {
  const idp = await startIdp(t)
  // createdAt has whole seconds: 3 s leave room for the refresh at ~1 s to happen inside the sign-in's life.
  const app = await buildApp(t, idp, 'public', { maxSessionAge: 3 })
  const { jar } = await login(app, idp)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  await sleep(1000)
  // A refresh rewrites the cookies, but does not extend the sign-in.
  const early = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(early.statusCode, 200)
  jar.store(early)
  await sleep(2200)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 401)
  assert.equal(idp.requests.tokenRefresh, 1)
})
