import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito from '../lib/index.js'
import { authenticate, authenticateNow, bearerAuthentication, endingSession, hasBearerHeader, prepareSession, type Authentication } from '../lib/authenticate.js'
import type { CognitoContext } from '../lib/context.js'
import type { LocalCognito } from '../lib/testing/index.js'
import type { CognitoAccessTokenPayload, CognitoUser } from '../lib/types.js'
import { bearer, buildApp, capturingLogger, CLIENT_IDS, type CookieJar, flipCharacter, login, pluginOptions, startIdp, type TestOptions } from './helpers/app.js'
import { manualClock, type ManualClock } from './helpers/clock.js'
import { buildContext } from './helpers/context.js'
import { closedPort } from './helpers/http-server.js'

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  context: CognitoContext
  clock: ManualClock
  lines: string[]
  /** Signs alice in through the plugin's routes (same secret, same clock) and returns her browser's cookies. */
  signIn: () => Promise<CookieJar>
  /** GET `path` with these headers; the answer says whether the part answered synchronously. */
  call: (path: '/authenticate' | '/now' | '/prepare' | '/ending', headers?: Record<string, string>) => Promise<{ statusCode: number, body: Record<string, unknown>, cookies: Array<{ name: string, maxAge?: number }> }>
}

/** An app whose routes call authenticate(), authenticateNow() and prepareSession() with a context of their own. */
async function harness (t: TestContext, overrides: Partial<TestOptions> = {}, idpOverrides: { accessTokenValiditySeconds?: number } = {}): Promise<Harness> {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  if (idpOverrides.accessTokenValiditySeconds !== undefined) for (const client of idp.clients) client.accessTokenValiditySeconds = idpOverrides.accessTokenValiditySeconds
  const { logger, lines } = capturingLogger('warn')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  const context = await buildContext(t, app, pluginOptions(idp, 'public', { now: clock.now, ...overrides }))
  const seen = new Map<string, Authentication>()
  const describe = (authentication: Authentication, sync: boolean): Record<string, unknown> => {
    const key = authentication.tokenPayload.jti as string
    const again = seen.get(key) === authentication
    seen.set(key, authentication)
    return { sync, username: authentication.user.username, tokenUse: authentication.user.claims.token_use, email: authentication.user.email ?? null, jti: key, again, frozen: Object.isFrozen(authentication) }
  }
  app.get('/authenticate', async (request, reply) => {
    const result = authenticate(request, reply, context)
    return describe(await result, !(result instanceof Promise))
  })
  app.get('/now', async (request) => {
    const result = authenticateNow(request, context)
    return describe(await result, !(result instanceof Promise))
  })
  app.get('/ending', async (request) => {
    const session = context.signIn?.store.readSession(request) ?? null
    if (session === null) return { session: null }
    // The test's change to the session: x-change names a token field and garbles it.
    const field = request.headers['x-change'] as 'accessToken' | 'idToken' | undefined
    const changed = field === undefined ? session : { ...session, [field]: flipCharacter(session[field] as string, 40) }
    const user = (await endingSession(context, changed))?.user
    return { username: user?.username ?? null, email: user?.email ?? null }
  })
  app.get('/prepare', async (request, reply) => {
    const result = prepareSession(request, reply, context)
    await result
    return { pending: result instanceof Promise }
  })
  await app.ready()
  return {
    idp,
    app,
    context,
    clock,
    lines,
    signIn: async () => (await login(await buildApp(t, idp, 'public', { now: clock.now }), idp)).jar,
    call: async (path, headers = {}) => {
      const response = await app.inject({ url: path, headers })
      return { statusCode: response.statusCode, body: response.json(), cookies: response.cookies as Array<{ name: string, maxAge?: number }> }
    }
  }
}

test('hasBearerHeader: any Authorization header that starts with the Bearer scheme', () => {
  for (const value of ['Bearer x', 'Bearer', 'bearer x', 'BEARER\tx', 'Bearer  x  ', 'bearer ']) assert.equal(hasBearerHeader(value), true, value)
  for (const value of [undefined, '', 'Basic x', 'Bearerx', 'Bearer:x', ' Bearer x', 'Token x']) assert.equal(hasBearerHeader(value), false, String(value))
})

test('bearerAuthentication: built once per verified (frozen) claims object, and frozen', () => {
  const claims = Object.freeze({ sub: 'u', username: 'alice', scope: 'openid', iss: 'i', client_id: 'c', token_use: 'access', iat: 1, exp: 2 }) as CognitoAccessTokenPayload
  const poolIdOf = (issuer: string): string => `pool-of-${issuer}`
  const first = bearerAuthentication(claims, poolIdOf)
  assert.equal(bearerAuthentication(claims, poolIdOf), first)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.user))
  assert.equal(first.tokenPayload, claims)
  assert.equal(first.user.username, 'alice')
  assert.equal(first.user.userPoolId, 'pool-of-i', 'the pool named by the issuer')
  const other = bearerAuthentication(Object.freeze({ ...claims }) as CognitoAccessTokenPayload, poolIdOf)
  assert.notEqual(other, first, 'keyed by the claims object, not by its content')
  assert.deepEqual(other, first)
})

test('bearerAuthentication keeps only claims that were frozen before (the verifier\'s shared objects)', () => {
  const claims = { sub: 'u', username: 'alice', iss: 'i', client_id: 'c', token_use: 'access', iat: 1, exp: 2 } as CognitoAccessTokenPayload
  const first = bearerAuthentication(claims, () => 'pool')
  assert.notEqual(bearerAuthentication(claims, () => 'pool'), first, 'an object that was not frozen before is not kept')
  const shared = Object.freeze({ ...claims }) as CognitoAccessTokenPayload
  assert.equal(bearerAuthentication(shared, () => 'pool'), bearerAuthentication(shared, () => 'pool'), 'a frozen one is')
})

test('no credentials: 401 unauthenticated', async (t) => {
  const { call } = await harness(t)
  for (const path of ['/authenticate', '/now'] as const) {
    const response = await call(path)
    assert.equal(response.statusCode, 401)
    assert.equal(response.body.code, 'FST_COGNITO_UNAUTHENTICATED')
    assert.equal(response.body.message, 'Authentication required')
  }
  assert.equal((await call('/now', { authorization: 'Basic dXNlcjpwYXNz' })).body.code, 'FST_COGNITO_UNAUTHENTICATED', 'another scheme is no credential')
})

test('a Bearer header that is not "Bearer <token>" is 401 with its own message', async (t) => {
  const { call } = await harness(t)
  for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'bearer\ttoken']) {
    const response = await call('/now', { authorization })
    assert.equal(response.statusCode, 401, authorization)
    assert.equal(response.body.message, 'The Authorization header is not of the form "Bearer <token>"', authorization)
  }
})

test('Bearer: a promise while the JWKS is fetched, then synchronous; the same authentication for the same token', async (t) => {
  const { call, idp } = await harness(t)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const first = await call('/authenticate', bearer(token))
  assert.deepEqual({ ...first.body, jti: undefined }, { sync: false, username: 'alice', tokenUse: 'access', email: null, jti: undefined, again: false, frozen: true })
  const second = await call('/authenticate', bearer(token))
  assert.equal(second.body.sync, true, 'cached token: no promise')
  assert.equal(second.body.again, true, 'the very same authentication object')
  const other = await call('/now', bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public)))
  assert.equal(other.body.sync, true, 'a new token whose key is held: no promise either')
  assert.equal(other.body.username, 'bob')
  assert.equal((await call('/now', { authorization: `bearer   ${token}` })).body.again, true, 'other spellings reach the same entry')
})

test('a session: the user from the ID token, one authentication per session and token, synchronous once the key is held', async (t) => {
  const { call, signIn } = await harness(t)
  const jar = await signIn()
  const first = await call('/authenticate', { cookie: jar.header })
  assert.equal(first.statusCode, 200)
  assert.equal(first.body.tokenUse, 'id')
  assert.equal(first.body.email, 'alice@example.com')
  const second = await call('/authenticate', { cookie: jar.header })
  assert.equal(second.body.sync, true)
  assert.equal(second.body.again, true)
})

test('a Bearer header decides alone: the session is neither used nor kept up', async (t) => {
  const { call, signIn, clock, idp } = await harness(t)
  const jar = await signIn()
  clock.advance(3600)
  const withBad = await call('/authenticate', { cookie: jar.header, authorization: 'Bearer not.a.token' })
  assert.equal(withBad.statusCode, 401)
  assert.equal(withBad.body.code, 'FST_COGNITO_INVALID_TOKEN')
  assert.deepEqual((await call('/prepare', { cookie: jar.header, authorization: 'Bearer x' })).body, { pending: false })
  assert.equal(idp.requests.tokenRefresh, 0, 'no refresh of a session the request does not use')
})

test('prepareSession: nothing to do (no promise) without a session or while the token is fresh', async (t) => {
  const { call, signIn, idp } = await harness(t)
  assert.deepEqual((await call('/prepare')).body, { pending: false })
  const jar = await signIn()
  assert.deepEqual((await call('/prepare', { cookie: jar.header })).body, { pending: false })
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('prepareSession refreshes a token that expires within refreshSkew, with the new cookies on this reply', async (t) => {
  const { app, signIn, idp, clock } = await harness(t, { refreshSkew: 60 })
  const jar = await signIn()
  clock.advance(3600 - 61)
  assert.equal((await app.inject({ url: '/prepare', headers: { cookie: jar.header } })).json().pending, false, 'not yet within the skew')
  clock.advance(1)
  const response = await app.inject({ url: '/prepare', headers: { cookie: jar.header } })
  assert.deepEqual(response.json(), { pending: true })
  assert.equal(idp.requests.tokenRefresh, 1)
  assert.ok((response.cookies as Array<{ name: string, value: string }>).some((cookie) => cookie.name.startsWith('cognito_session.') && cookie.value !== ''))
})

test('authenticate after a refresh: a new authentication for the new token', async (t) => {
  const { call, signIn, clock } = await harness(t, { clockTolerance: 0 })
  const jar = await signIn()
  const before = await call('/authenticate', { cookie: jar.header })
  clock.advance(3600)
  const after = await call('/authenticate', { cookie: jar.header })
  assert.equal(after.statusCode, 200)
  assert.equal(after.body.sync, false, 'the refresh is a promise')
  assert.notEqual(after.body.jti, before.body.jti)
})

test('prepareSession never refreshes with autoRefresh off or without a refresh token', async (t) => {
  const { call, signIn, clock, idp } = await harness(t, { autoRefresh: false, clockTolerance: 0 })
  const jar = await signIn()
  clock.advance(3600)
  assert.deepEqual((await call('/prepare', { cookie: jar.header })).body, { pending: false })
  const expired = await call('/authenticate', { cookie: jar.header })
  assert.equal(expired.statusCode, 401)
  assert.equal(expired.body.code, 'FST_COGNITO_TOKEN_EXPIRED')
  assert.equal(idp.requests.tokenRefresh, 0)
})

test('prepareSession ends a session past maxSessionAge: cookies cleared, 401 session expired', async (t) => {
  const { call, signIn, clock } = await harness(t, { maxSessionAge: 600 })
  const jar = await signIn()
  clock.advance(600)
  for (const path of ['/prepare', '/authenticate'] as const) {
    const response = await call(path, { cookie: jar.header })
    assert.equal(response.statusCode, 401)
    assert.equal(response.body.code, 'FST_COGNITO_SESSION_EXPIRED')
    assert.ok(response.cookies.length > 0 && response.cookies.every((cookie) => cookie.maxAge === 0))
  }
})

test('a network fault while refreshing a still-valid token is logged, and the request goes on with that token', async (t) => {
  const port = await closedPort()
  const { call, signIn, lines, clock } = await harness(t, { domain: `http://127.0.0.1:${port}`, refreshSkew: 7200 })
  const jar = await signIn()
  // A skew longer than the token lives is capped at half its lifetime: the refresh is due half-way, at 1800 s.
  clock.advance(1799)
  assert.equal((await call('/authenticate', { cookie: jar.header })).statusCode, 200)
  assert.equal(lines.some((line) => line.includes('refreshing an expiring session failed')), false, 'not due yet')
  clock.advance(1)
  const response = await call('/authenticate', { cookie: jar.header })
  assert.equal(response.statusCode, 200)
  assert.equal(response.body.username, 'alice')
  assert.equal(response.cookies.length, 0)
  const warning = lines.map((line) => JSON.parse(line) as { msg: string, code?: string }).find((line) => line.msg.includes('refreshing an expiring session failed'))
  assert.equal(warning?.code, 'FST_COGNITO_IDP_UNAVAILABLE')
})

test('a network fault while refreshing an expired token fails the request, and keeps the session', async (t) => {
  const port = await closedPort()
  const { call, signIn, clock } = await harness(t, { domain: `http://127.0.0.1:${port}`, clockTolerance: 0 })
  const jar = await signIn()
  clock.advance(3600)
  const response = await call('/authenticate', { cookie: jar.header })
  assert.equal(response.statusCode, 503)
  assert.equal(response.body.code, 'FST_COGNITO_IDP_UNAVAILABLE')
  assert.equal(response.cookies.length, 0)
})

test('a refused refresh of a still-valid token is not swallowed: the session ends', async (t) => {
  const { call, signIn, idp, clock } = await harness(t, { refreshSkew: 7200 })
  const jar = await signIn()
  idp.revokeAllSessions()
  clock.advance(1800) // due half-way through the token's lifetime (the skew is capped there)
  const response = await call('/authenticate', { cookie: jar.header })
  assert.equal(response.statusCode, 401)
  assert.equal(response.body.code, 'FST_COGNITO_SESSION_EXPIRED')
})

test('endingSession: the user of an ending session from its verified tokens, expired ones included; null when they do not verify', async (t) => {
  const { call, signIn, clock } = await harness(t)
  const jar = await signIn()
  assert.deepEqual((await call('/ending', { cookie: jar.header })).body, { username: 'alice', email: 'alice@example.com' })
  clock.advance(7200)
  assert.deepEqual((await call('/ending', { cookie: jar.header })).body, { username: 'alice', email: 'alice@example.com' }, 'both tokens expired')
  for (const field of ['accessToken', 'idToken']) {
    assert.deepEqual((await call('/ending', { cookie: jar.header, 'x-change': field })).body, { username: null, email: null }, `a forged ${field} names nobody, and throws nothing`)
  }
  assert.deepEqual((await call('/ending')).body, { session: null })
})

test('request.user and request.tokenPayload are shared and frozen: a handler cannot change the next request', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const seen: CognitoUser[] = []
  app.get('/mutate', { preHandler: app.cognito.requireAuth() }, async (request) => {
    const user = request.user as CognitoUser
    seen.push(user)
    const attempts = [
      () => { user.groups.push('root') },
      () => { user.scopes.push('admin') },
      () => { (user as { username: string }).username = 'mallory' },
      () => { (request.tokenPayload as { sub: string }).sub = 'someone-else' },
      () => { (user.claims['cognito:groups'] as string[])[0] = 'root' }
    ]
    return { refused: attempts.filter((attempt) => { try { attempt(); return false } catch { return true } }).length, groups: user.groups }
  })
  await app.ready()
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const headers = { authorization: `Bearer ${token}` }
  const first = (await app.inject({ url: '/mutate', headers })).json()
  const second = (await app.inject({ url: '/mutate', headers })).json()
  assert.deepEqual(first, { refused: 5, groups: ['admin', 'editor'] })
  assert.deepEqual(second, first)
  assert.equal(seen[0], seen[1], 'one user object for the token, built once')

  const { jar } = await login(app, idp)
  const a = (await app.inject({ url: '/mutate', headers: { cookie: jar.header } })).json()
  const b = (await app.inject({ url: '/mutate', headers: { cookie: jar.header } })).json()
  assert.deepEqual(a, { refused: 5, groups: ['admin', 'editor'] })
  assert.deepEqual(b, a)
  assert.equal(seen[2], seen[3], 'one user object for the session, built once')
  assert.equal(seen[2]?.email, 'alice@example.com', 'the session user still has the ID-token claims')
})

test('the Bearer fast path accepts exactly what the header grammar accepts', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const status = async (authorization: string): Promise<number> => (await app.inject({ url: '/me', headers: { authorization } })).statusCode
  assert.equal(await status(`Bearer ${token}`), 200) // now cached
  assert.equal(await status(`Bearer ${token}`), 200)
  assert.equal(await status(`bearer ${token}`), 200)
  assert.equal(await status(`Bearer   ${token}  `), 200)
  assert.equal(await status(`Bearer ${token}x`), 401)
  assert.equal(await status(`Bearer ${token} x`), 401)
  assert.equal(await status(`Bearer ${token.slice(0, -1)}`), 401)
  assert.equal(await status(`Bearer\t${token}`), 401)
  assert.equal(await status(`Basic ${token}`), 401)
})
