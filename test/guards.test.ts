import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import {
  CognitoError,
  CognitoForbiddenError,
  CognitoIdpUnavailableError,
  CognitoInvalidTokenError,
  CognitoSessionExpiredError,
  CognitoStepUpRequiredError,
  CognitoTokenExpiredError,
  CognitoUnauthenticatedError
} from '../lib/errors.js'
import { assertRecentSignIn, compilePolicy, forbiddenError, loginRedirectTarget, wwwAuthenticate, type GuardPolicy } from '../lib/guards.js'
import fastifyCognito from '../lib/index.js'
import type { CognitoAccessTokenPayload, CognitoRequireAuthOptions, CognitoUser } from '../lib/types.js'
import { bearer, buildApp, CLIENT_IDS, login, OTHER_CLIENT_ID, pluginOptions, startIdp } from './helpers/app.js'
import { manualClock } from './helpers/clock.js'

// First the policy and the rules as plain functions, then the guard over HTTP.

function user (groups: string[], scopes: string[]): CognitoUser {
  return { sub: 'u', isMachine: false, username: 'alice', groups, scopes, clientId: CLIENT_IDS.public, userPoolId: 'eu-west-1_Pool', claims: {} as CognitoUser['claims'] }
}

const policy = (options: CognitoRequireAuthOptions = {}): GuardPolicy => compilePolicy(options)

test('compilePolicy: the defaults, frozen', () => {
  const compiled = compilePolicy()
  assert.deepEqual(compiled, { groups: [], anyGroup: false, scopes: [], anyScope: false, clientIds: [], optional: false, redirectToLogin: true, maxAge: undefined, check: undefined })
  assert.ok(Object.isFrozen(compiled) && Object.isFrozen(compiled.groups) && Object.isFrozen(compiled.scopes) && Object.isFrozen(compiled.clientIds))
  assert.deepEqual(compilePolicy({}), compiled)
})

test('compilePolicy keeps what it is given', () => {
  const check = (): boolean => true
  assert.deepEqual(compilePolicy({ groups: ['admin'], anyGroup: true, scopes: ['orders/read'], anyScope: true, clientIds: ['c1'], optional: true, redirectToLogin: false, maxAge: 0, check }, ['c1', 'c2']), {
    groups: ['admin'], anyGroup: true, scopes: ['orders/read'], anyScope: true, clientIds: ['c1'], optional: true, redirectToLogin: false, maxAge: 0, check
  })
  assert.equal(compilePolicy({ anyGroup: 'yes' as never }).anyGroup, false, 'only true turns anyGroup on')
  assert.equal(compilePolicy({ redirectToLogin: 0 as never }).redirectToLogin, true, 'only false turns redirects off')
})

test('compilePolicy refuses bad options with an error that names the option', () => {
  const refuses = (options: unknown, option: string): void => {
    assert.throws(() => compilePolicy(options as CognitoRequireAuthOptions), (error: CognitoError) => {
      assert.equal(error.code, 'FST_COGNITO_INVALID_OPTION')
      assert.match(error.message, new RegExp(`requireAuth option "${option}"`))
      return true
    }, JSON.stringify(options))
  }
  for (const groups of ['admin', [''], [1], [null], {}]) refuses({ groups }, 'groups')
  for (const scopes of ['orders/read', [''], [['a']]]) refuses({ scopes }, 'scopes')
  for (const maxAge of [-1, 1.5, '300', null, Number.NaN]) refuses({ maxAge }, 'maxAge')
  for (const check of [true, 'fn', {}]) refuses({ check }, 'check')
})

test('assertRecentSignIn: auth_time at most maxAge seconds before now', () => {
  const claims = (authTime: unknown): CognitoAccessTokenPayload => ({ auth_time: authTime }) as CognitoAccessTokenPayload
  assertRecentSignIn(claims(1000), 300, 1300)
  assertRecentSignIn(claims(1000), 0, 1000)
  assertRecentSignIn(claims(2000), 300, 1000) // a sign-in "in the future" of a slow clock is recent
  for (const [authTime, maxAge, now] of [[1000, 300, 1300.5], [1000, 0, 1001], [undefined, 300, 1000], ['1000', 300, 1000]] as const) {
    assert.throws(() => { assertRecentSignIn(claims(authTime), maxAge, now) }, (error: CognitoStepUpRequiredError) => {
      assert.ok(error instanceof CognitoStepUpRequiredError)
      assert.equal(error.maxAge, maxAge)
      return true
    })
  }
})

test('forbiddenError: groups all required by default, one with anyGroup; scopes all required', () => {
  assert.equal(forbiddenError(policy(), user([], [])), undefined)
  assert.equal(forbiddenError(policy({ groups: ['a', 'b'] }), user(['b', 'a', 'c'], [])), undefined)
  assert.equal(forbiddenError(policy({ groups: ['a', 'b'], anyGroup: true }), user(['b'], [])), undefined)
  assert.equal(forbiddenError(policy({ scopes: ['s1', 's2'] }), user([], ['s2', 's1'])), undefined)

  const missingGroup = forbiddenError(policy({ groups: ['a', 'b'] }), user(['a'], []))
  assert.ok(missingGroup instanceof CognitoForbiddenError)
  assert.equal(missingGroup.message, 'The user is not in a required group')
  assert.deepEqual([missingGroup.missingGroups, missingGroup.missingScopes], [['b'], []])

  const noneOfAny = forbiddenError(policy({ groups: ['a', 'b'], anyGroup: true }), user(['c'], []))
  assert.deepEqual(noneOfAny?.missingGroups, ['a', 'b'])

  const missingScope = forbiddenError(policy({ scopes: ['s1', 's2'] }), user([], ['s1']))
  assert.equal(missingScope?.message, 'The access token lacks a required scope')
  assert.deepEqual([missingScope?.missingGroups, missingScope?.missingScopes], [[], ['s2']])
})

test('forbiddenError: anyScope accepts one of the scopes; clientIds narrows the accepted app clients', () => {
  assert.equal(forbiddenError(policy({ scopes: ['s1', 's2'], anyScope: true }), user([], ['s2'])), undefined)
  assert.deepEqual(forbiddenError(policy({ scopes: ['s1', 's2'], anyScope: true }), user([], ['s3']))?.missingScopes, ['s1', 's2'])
  const narrowed = compilePolicy({ clientIds: [CLIENT_IDS.confidential] }, [CLIENT_IDS.public, CLIENT_IDS.confidential])
  const otherClient = forbiddenError(narrowed, user([], []))
  assert.ok(otherClient instanceof CognitoForbiddenError)
  assert.equal(otherClient.message, 'The access token was issued to an app client this route does not accept')
  assert.equal(forbiddenError(narrowed, { ...user([], []), clientId: CLIENT_IDS.confidential }), undefined)
  assert.equal(forbiddenError(policy(), { ...user([], []), clientId: 'any-client' }), undefined, 'no clientIds: every client the registration accepts')
})

test('compilePolicy: clientIds must be ones the registration accepts', () => {
  assert.throws(() => compilePolicy({ clientIds: [OTHER_CLIENT_ID] }, [CLIENT_IDS.public]), (error: CognitoError) => {
    assert.equal(error.code, 'FST_COGNITO_INVALID_OPTION')
    assert.match(error.message, new RegExp(`requireAuth option "clientIds" names "${OTHER_CLIENT_ID}"`))
    return true
  })
  for (const clientIds of ['c', [''], [1]]) assert.throws(() => compilePolicy({ clientIds: clientIds as never }, ['c']), /requireAuth option "clientIds"/)
})

test('optional: no credentials at all run the handler anonymously; credentials that are present must be valid', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/maybe', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({ user: request.user?.username ?? null }))
  const maybe = app.cognito.requireAuth({ optional: true })
  app.get('/maybe-direct', async function (request, reply) {
    await maybe.call(this, request, reply)
    return { user: request.user?.username ?? null }
  })
  for (const url of ['/maybe', '/maybe-direct']) {
    assert.deepEqual((await app.inject({ url, headers: { accept: 'text/html' } })).json(), { user: null }, `${url}: anonymous, not sent to sign in`)
    assert.deepEqual((await app.inject({ url, headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })).json(), { user: 'alice' }, url)
    const invalid = await app.inject({ url, headers: bearer('not.a.token') })
    assert.equal(invalid.statusCode, 401, url)
    assert.equal(invalid.json().code, 'FST_COGNITO_INVALID_TOKEN', url)
  }
  const { jar } = await login(app, idp)
  assert.deepEqual((await app.inject({ url: '/maybe', headers: { cookie: jar.header } })).json(), { user: 'alice' }, 'a session')
})

test('forbiddenError: a missing scope is named first; groups that hold are not listed as missing', () => {
  const both = forbiddenError(policy({ groups: ['a'], scopes: ['s'] }), user([], []))
  assert.equal(both?.message, 'The access token lacks a required scope')
  assert.deepEqual([both?.missingGroups, both?.missingScopes], [['a'], ['s']])
  const scopeOnly = forbiddenError(policy({ groups: ['a', 'b'], anyGroup: true, scopes: ['s'] }), user(['a'], []))
  assert.deepEqual([scopeOnly?.missingGroups, scopeOnly?.missingScopes], [[], ['s']])
})

test('wwwAuthenticate: RFC 6750 / RFC 9470 challenges by error', () => {
  assert.equal(wwwAuthenticate(new CognitoUnauthenticatedError(), []), 'Bearer')
  assert.equal(wwwAuthenticate(new CognitoInvalidTokenError('Token signature is invalid'), []), 'Bearer error="invalid_token", error_description="Token signature is invalid"')
  assert.equal(wwwAuthenticate(new CognitoTokenExpiredError(), []), 'Bearer error="invalid_token", error_description="Token has expired"')
  assert.equal(wwwAuthenticate(new CognitoSessionExpiredError(), []), 'Bearer error="invalid_token", error_description="The session has expired: sign in again"')
  assert.equal(wwwAuthenticate(new CognitoInvalidTokenError('a "quoted" \\ value'), []), 'Bearer error="invalid_token", error_description="a quoted  value"', 'no quote or backslash can break out')
  assert.equal(wwwAuthenticate(new CognitoStepUpRequiredError(300), []), 'Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age=300')
  assert.equal(wwwAuthenticate(new CognitoForbiddenError('x', { scopes: ['b'] }), ['a', 'b']), 'Bearer error="insufficient_scope", scope="a b"', 'every scope the route needs')
  assert.equal(wwwAuthenticate(new CognitoForbiddenError('x', { groups: ['admin'] }), ['a']), 'Bearer', 'groups are no OAuth matter')
  assert.equal(wwwAuthenticate(new CognitoIdpUnavailableError('down'), []), 'Bearer')
})

test('loginRedirectTarget: the login path with a safe returnTo, and prompt=login for a step-up', () => {
  assert.equal(loginRedirectTarget('/login', '/orders?page=2', false), '/login?returnTo=%2Forders%3Fpage%3D2')
  assert.equal(loginRedirectTarget('/auth/login', '/transfer', true), '/auth/login?returnTo=%2Ftransfer&prompt=login')
  assert.equal(loginRedirectTarget('/login', '//evil.com/me', false), '/login', 'an unsafe path is dropped')
  assert.equal(loginRedirectTarget('/login', '//evil.com/me', true), '/login?prompt=login')
})

test('no credentials: 401 with WWW-Authenticate and a JSON error for API calls', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me', headers: { accept: 'application/json' } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.headers['www-authenticate'], 'Bearer')
  assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED')
})

test('no credentials: a browser navigation is sent to the login route with returnTo', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me?tab=2', headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, `/login?returnTo=${encodeURIComponent('/me?tab=2')}`)
})

test('a non-GET or a JSON-preferring request is never redirected', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  app.log.level = 'silent'
  const json = await app.inject({ url: '/me', headers: { accept: 'application/json, text/html;q=0.5' } })
  assert.equal(json.statusCode, 401)
  const any = await app.inject({ url: '/me', headers: { accept: '*/*' } })
  assert.equal(any.statusCode, 401)
})

test('Bearer access token: authenticated from the header, user built from access-token claims', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const response = await app.inject({ url: '/me', headers: bearer(token) })
  assert.equal(response.statusCode, 200)
  const { user, tokenPayload } = response.json()
  assert.equal(user.username, 'alice')
  assert.deepEqual(user.groups, ['admin', 'editor'])
  assert.equal(user.claims.token_use, 'access')
  assert.equal(tokenPayload.client_id, CLIENT_IDS.public)
})

test('app.cognito.verifyAccessToken resolves to claims or rejects typed', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const claims = await app.cognito.verifyAccessToken(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.equal(claims.username, 'bob')
  await assert.rejects(app.cognito.verifyAccessToken('nope'), { code: 'FST_COGNITO_INVALID_TOKEN', statusCode: 401 })
})

test('request.user and request.tokenPayload are null where no guard ran', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const response = await app.inject({ url: '/public', headers: bearer(token) })
  assert.deepEqual(response.json(), { user: null, tokenPayload: null })
})

test('groups: all required by default; anyGroup accepts one of them; a user without groups has []', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const alice = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public))
  const bob = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.equal((await app.inject({ url: '/admin', headers: alice })).statusCode, 200)
  assert.equal((await app.inject({ url: '/edit', headers: alice })).statusCode, 200)
  const bobAdmin = await app.inject({ url: '/admin', headers: { ...bob, accept: 'text/html' } })
  assert.equal(bobAdmin.statusCode, 403, 'authenticated but not allowed: 403, never a login redirect')
  assert.equal(bobAdmin.json().code, 'FST_COGNITO_FORBIDDEN')
  assert.equal((await app.inject({ url: '/edit', headers: bob })).statusCode, 403)
  assert.deepEqual((await app.inject({ url: '/me', headers: bob })).json().user.groups, [])

  const editorOnly = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { 'cognito:groups': ['editor'] } }))
  assert.equal((await app.inject({ url: '/admin', headers: editorOnly })).statusCode, 403, 'all groups are required')
  const publisher = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { 'cognito:groups': ['publisher'] } }))
  assert.equal((await app.inject({ url: '/edit', headers: publisher })).statusCode, 200, 'any one group is enough')
})

test('scopes: a token without the scope gets 403 insufficient_scope', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const withScope = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public, { claims: { scope: 'openid orders/read' } }))
  assert.equal((await app.inject({ url: '/orders', headers: withScope })).statusCode, 200)
  const without = await app.inject({ url: '/orders', headers: bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public, { claims: { scope: 'openid email' } })) })
  assert.equal(without.statusCode, 403)
  assert.equal(without.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="orders/read"')
})

test('session cookie: the browser session authorizes guarded routes; groups from the session', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp, { username: 'bob' })
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const admin = await app.inject({ url: '/admin', headers: { cookie: jar.header, accept: 'text/html' } })
  assert.equal(admin.statusCode, 403)
})

test('an invalid Bearer token never falls back to the session cookie', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header, authorization: 'Bearer not.a.token' } })
  assert.equal(response.statusCode, 401)
  assert.match(response.headers['www-authenticate'] as string, /^Bearer error="invalid_token"/)
})

test('a malformed Authorization header is 401', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me', headers: { authorization: 'Bearer' } })
  assert.equal(response.statusCode, 401)
})

test('a static jwks option verifies tokens without ever fetching the JWKS', async (t) => {
  const idp = await startIdp(t)
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: unknown[] }
  const fetched = idp.requests.jwks
  const app = await buildApp(t, idp, 'public', { jwks, jwksUri: 'http://127.0.0.1:9/unreachable.json' })
  const response = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })
  assert.equal(response.statusCode, 200)
  const unknownKid = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: 'other=' } })) })
  assert.equal(unknownKid.statusCode, 401)
  assert.equal(idp.requests.jwks, fetched)
})

test('a guard called directly from an async hook returns a promise: it admits, refuses (401, 403) and redirects', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const adminOnly = app.cognito.requireAuth({ groups: ['admin'] })
  app.addHook('preHandler', async function (request, reply) {
    if (!request.url.startsWith('/area/')) return
    const outcome = adminOnly.call(this, request, reply)
    assert.ok(outcome instanceof Promise)
    await outcome
  })
  app.get('/area/report', async (request) => ({ username: request.user?.username }))
  await app.ready()
  const alice = (await login(app, idp)).jar.header
  const bob = (await login(app, idp, { username: 'bob' })).jar.header
  assert.deepEqual((await app.inject({ url: '/area/report', headers: { cookie: alice } })).json(), { username: 'alice' })
  const forbidden = await app.inject({ url: '/area/report', headers: { cookie: bob } })
  assert.equal(forbidden.statusCode, 403)
  assert.equal(forbidden.json().code, 'FST_COGNITO_FORBIDDEN')
  const anonymous = await app.inject({ url: '/area/report' })
  assert.equal(anonymous.statusCode, 401)
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer')
  const browser = await app.inject({ url: '/area/report', headers: { accept: 'text/html' } })
  assert.equal(browser.statusCode, 302)
  assert.equal(browser.headers.location, `/login?returnTo=${encodeURIComponent('/area/report')}`)
})

test('an expired cached token is refused by the guard', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = await buildApp(t, idp, 'public', { clockTolerance: 0, now: clock.now })
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public, { expiresInSeconds: 2 })
  assert.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  clock.advance(2.1)
  const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_TOKEN_EXPIRED')
})

test('requireAuth with a bad option throws at once, where the route is declared', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  assert.throws(() => app.cognito.requireAuth({ groups: 'admin' as never }), { code: 'FST_COGNITO_INVALID_OPTION', message: /"groups"/ })
  assert.throws(() => app.cognito.requireAuth({ maxAge: -1 }), { code: 'FST_COGNITO_INVALID_OPTION', message: /"maxAge"/ })
})

test('the guard decides at once through done when it can, and returns a promise when it must wait', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const guards = { any: app.cognito.requireAuth(), admin: app.cognito.requireAuth({ groups: ['admin'] }), checked: app.cognito.requireAuth({ check: () => true }) }
  type Guard = (this: unknown, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => Promise<unknown> | undefined
  app.get('/direct/:guard', async (request, reply) => {
    const guard = guards[(request.params as { guard: keyof typeof guards }).guard] as unknown as Guard
    let done: string | undefined
    const returned = guard.call(app, request, reply, (error) => { done = error === undefined ? 'passed' : (error as CognitoError).code })
    const doneAtOnce = done
    if (returned !== undefined) await returned.catch(() => {})
    return { returned: returned === undefined ? 'nothing' : 'promise', doneAtOnce: doneAtOnce ?? null, user: request.user?.username ?? null }
  })
  await app.ready()
  const alice = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public))
  const bob = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.deepEqual((await app.inject({ url: '/direct/any', headers: alice })).json(), { returned: 'nothing', doneAtOnce: 'passed', user: 'alice' }, 'the key was prefetched: no promise')
  assert.deepEqual((await app.inject({ url: '/direct/admin', headers: bob })).json(), { returned: 'nothing', doneAtOnce: 'FST_COGNITO_FORBIDDEN', user: null })
  assert.deepEqual((await app.inject({ url: '/direct/checked', headers: alice })).json(), { returned: 'promise', doneAtOnce: null, user: 'alice' }, 'a check rule may be async')
  assert.deepEqual((await app.inject({ url: '/direct/any' })).json(), { returned: 'promise', doneAtOnce: null, user: null }, 'a refusal goes through the promise')
  const unknownKid = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: 'unknown-kid' } }))
  assert.deepEqual((await app.inject({ url: '/direct/any', headers: unknownKid })).json(), { returned: 'promise', doneAtOnce: null, user: null }, 'a key lookup is a promise')
})

test('check: a sync or async rule; false or a throw refuses; it runs after groups and scopes', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const calls: string[] = []
  app.get('/sync', { preHandler: app.cognito.requireAuth({ check: (user) => { calls.push(String(user.username)); return user.username === 'alice' } }) }, async () => ({ ok: true }))
  app.get('/throws', { preHandler: app.cognito.requireAuth({ check: async () => { throw Object.assign(new Error('rule failed'), { statusCode: 409 }) } }) }, async () => ({ ok: true }))
  app.get('/admins', { preHandler: app.cognito.requireAuth({ groups: ['admin'], check: (user) => { calls.push(`admins:${user.username}`); return true } }) }, async () => ({ ok: true }))
  const alice = bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public))
  const bob = bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.equal((await app.inject({ url: '/sync', headers: alice })).statusCode, 200)
  const refused = await app.inject({ url: '/sync', headers: bob })
  assert.equal(refused.statusCode, 403)
  assert.equal(refused.json().message, 'The request is not allowed by the route\'s access rule')
  assert.equal(refused.headers['www-authenticate'], undefined)
  assert.equal((await app.inject({ url: '/throws', headers: alice })).statusCode, 409)
  assert.equal((await app.inject({ url: '/admins', headers: bob })).statusCode, 403)
  assert.deepEqual(calls, ['alice', 'bob'], 'a user outside the groups never reaches the rule')
})

test('redirectToLogin: false answers browsers 401 too', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/api', { preHandler: app.cognito.requireAuth({ redirectToLogin: false }) }, async () => ({ ok: true }))
  const response = await app.inject({ url: '/api', headers: { accept: 'text/html' } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.headers['www-authenticate'], 'Bearer')
})

test('the guard\'s redirects are not cached, and a failure that is not a 401 carries no challenge', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { prefetchJwks: false })
  app.log.level = 'silent'
  const browser = await app.inject({ url: '/me', headers: { accept: 'text/html' } })
  assert.equal(browser.headers['cache-control'], 'no-store')
  idp.setJwksAvailable(false)
  const down = await app.inject({ url: '/me', headers: { ...bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)), accept: 'text/html' } })
  assert.equal(down.statusCode, 503, 'no login redirect for an outage')
  assert.equal(down.headers['www-authenticate'], undefined)
})

test('step-up also applies when the authentication had to wait (a key lookup)', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { prefetchJwks: false }))
  app.get('/transfer', { preHandler: app.cognito.requireAuth({ maxAge: 300 }) }, async () => ({ ok: true }))
  const old = await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { auth_time: Math.floor(Date.now() / 1000) - 3600 } })
  const refused = await app.inject({ url: '/transfer', headers: bearer(old) })
  assert.equal(refused.statusCode, 401, 'the first request fetched the JWKS')
  assert.equal(refused.json().code, 'FST_COGNITO_STEP_UP_REQUIRED')
  assert.equal(idp.requests.jwks, 1)
  const fresh = Fastify()
  t.after(async () => { await fresh.close() })
  await fresh.register(fastifyCognito, pluginOptions(idp, 'public', { prefetchJwks: false }))
  fresh.get('/transfer', { preHandler: fresh.cognito.requireAuth({ maxAge: 300 }) }, async () => ({ ok: true }))
  assert.equal((await fresh.inject({ url: '/transfer', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })).statusCode, 200)
})
