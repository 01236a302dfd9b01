import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import type { SignInContext } from '../../lib/context.js'
import { CognitoInvalidTokenError } from '../../lib/errors.js'
import { completeLogin } from '../../lib/flows/complete-login.js'
import { startLogin } from '../../lib/flows/start-login.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { capturingLogger, CookieJar, location, pluginOptions, signInAtIdp, startIdp, type TestOptions } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { buildSignInContext } from '../helpers/context.js'
import { sendJson, startHttpServer } from '../helpers/http-server.js'

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  context: SignInContext
  clock: ManualClock
  lines: string[]
  /** GET /login (with returnTo), keeping its cookie in a new jar; the authorize URL and the state. */
  start: (returnTo?: string) => Promise<{ jar: CookieJar, authorize: string, state: string }>
  /** GET /login/redirect?<query> with the jar's cookies. */
  returnFromIdp: (query: string, jar?: CookieJar) => Promise<LightMyRequestResponse>
  /** The whole sign-in of `username`; the callback's answer and the jar after it. */
  signIn: (username?: string, returnTo?: string) => Promise<{ response: LightMyRequestResponse, jar: CookieJar }>
  session: (jar: CookieJar) => Promise<CognitoSessionData | null>
}

/** An app whose /login and /login/redirect call startLogin and completeLogin directly, on a context of its own. */
async function harness (t: TestContext, overrides: Partial<TestOptions> = {}, users?: Parameters<typeof startIdp>[1]): Promise<Harness> {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now, ...users })
  const { logger, lines } = capturingLogger('info')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', { now: clock.now, afterLoginRedirect: '/home', ...overrides }))
  app.get('/login', async (request, reply) => startLogin(context, request, reply, { returnTo: (request.query as { returnTo?: string }).returnTo }))
  app.get('/login/redirect', async (request, reply) => await completeLogin(context, request, reply))
  app.get('/session', async (request) => context.signIn.store.readSession(request))
  await app.ready()
  const start = async (returnTo?: string): Promise<{ jar: CookieJar, authorize: string, state: string }> => {
    const response = await app.inject({ url: '/login', query: returnTo === undefined ? {} : { returnTo } })
    const authorize = location(response)
    return { jar: new CookieJar().store(response), authorize, state: new URL(authorize).searchParams.get('state') ?? '' }
  }
  const returnFromIdp = async (query: string, jar = new CookieJar()): Promise<LightMyRequestResponse> => await app.inject({ url: `/login/redirect?${query}`, headers: { cookie: jar.header } })
  return {
    idp,
    app,
    context,
    clock,
    lines,
    start,
    returnFromIdp,
    signIn: async (username = 'alice', returnTo) => {
      const { jar, authorize } = await start(returnTo)
      // The browser's side of the sign-in is always the IdP's, whatever the back channel's domain.
      const url = new URL(authorize)
      const back = await signInAtIdp(idp, new URL(url.pathname + url.search, idp.domain).href, username, `${username}-password-1`)
      const response = await returnFromIdp(back.search.slice(1), jar)
      return { response, jar: jar.store(response) }
    },
    session: async (jar) => (await app.inject({ url: '/session', headers: { cookie: jar.header } })).json()
  }
}

function codeOf (response: LightMyRequestResponse): string {
  return (response.json() as { code: string }).code
}

test('a sign-in: the code is exchanged, the tokens verified, a new session stored, the login spent', async (t) => {
  const { signIn, session, idp, clock, lines } = await harness(t)
  const { response, jar } = await signIn('alice', '/orders?page=2')
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, '/orders?page=2')
  assert.equal(response.headers['cache-control'], 'no-store')
  assert.equal(jar.cookies.has('cognito_login'), false, 'the login transaction is spent')
  const stored = await session(jar)
  assert.ok(stored)
  assert.equal(stored.sub, idp.users.find((user) => user.username === 'alice')?.sub)
  assert.equal(stored.createdAt, Math.floor(clock.seconds()))
  assert.equal(stored.expiresAt, Math.floor(clock.seconds()) + 3600)
  assert.ok(stored.idToken !== undefined && stored.refreshToken !== undefined)
  assert.equal(idp.requests.tokenAuthorizationCode, 1)
  const signedIn = lines.map((line) => JSON.parse(line) as { msg: string, sub?: string }).find((line) => line.msg === 'fastify-cognito: signed in')
  assert.equal(signedIn?.sub, stored.sub)
})

test('without a safe returnTo the login ends on afterLoginRedirect', async (t) => {
  const { signIn } = await harness(t)
  assert.equal((await signIn('bob')).response.headers.location, '/home')
  assert.equal((await signIn('bob', '//evil.com')).response.headers.location, '/home')
})

test('Cognito\'s ?error= ends the login: the OAuth error code is kept, anything else is "unknown", the login is spent', async (t) => {
  const { start, returnFromIdp } = await harness(t)
  const { jar, state } = await start()
  const denied = await returnFromIdp(`error=access_denied&error_description=nope&state=${state}`, jar)
  assert.equal(denied.statusCode, 403)
  assert.equal(codeOf(denied), 'FST_COGNITO_AUTHORIZATION_ERROR')
  assert.equal(denied.json().message, 'The sign-in was not completed: access_denied')
  assert.match(String(denied.headers['set-cookie']), /^cognito_login=; Max-Age=0/)
  const other = await returnFromIdp('error=Server%20Error', jar)
  assert.equal(other.statusCode, 400)
  assert.equal(other.json().message, 'The sign-in was not completed: unknown')
})

test('no login in progress: state missing; a login of another state: state mismatch; the code is never exchanged', async (t) => {
  const { start, returnFromIdp, idp } = await harness(t)
  const missing = await returnFromIdp('code=c&state=s')
  assert.equal(missing.statusCode, 400)
  assert.equal(codeOf(missing), 'FST_COGNITO_LOGIN_STATE_MISSING')
  const { jar } = await start()
  for (const query of ['code=c&state=forged', 'code=c']) {
    const mismatch = await returnFromIdp(query, jar)
    assert.equal(mismatch.statusCode, 400)
    assert.equal(codeOf(mismatch), 'FST_COGNITO_STATE_MISMATCH', query)
    assert.equal(mismatch.headers['set-cookie'], undefined, 'the logins in progress stay')
  }
  assert.equal(idp.requests.tokenAuthorizationCode, 0)
})

test('a callback that is malformed: repeated parameters, no code, a code too long', async (t) => {
  const { start, returnFromIdp, idp } = await harness(t)
  const { jar, state } = await start()
  const repeatedState = await returnFromIdp(`state=${state}&state=${state}&code=c`, jar)
  assert.equal(codeOf(repeatedState), 'FST_COGNITO_INVALID_CALLBACK')
  assert.equal(repeatedState.json().message, 'The callback parameter "state" must appear once')
  for (const query of [`state=${state}`, `state=${state}&code=`, `state=${state}&code=${'c'.repeat(2049)}`, `state=${state}&code=a&code=b`, `state=${state}&error=a&error=b`]) {
    const fresh = await start()
    const response = await returnFromIdp(query.replace(state, fresh.state), fresh.jar)
    assert.equal(response.statusCode, 400, query.slice(0, 60))
    assert.equal(codeOf(response), 'FST_COGNITO_INVALID_CALLBACK', query.slice(0, 60))
  }
  assert.equal(idp.requests.tokenAuthorizationCode, 0)
})

test('a refused code exchange leaves no session', async (t) => {
  const { start, returnFromIdp } = await harness(t)
  const { jar, state } = await start()
  const response = await returnFromIdp(`state=${state}&code=not-a-code-the-idp-issued`, jar)
  assert.equal(codeOf(response), 'FST_COGNITO_INVALID_GRANT')
  assert.equal((response.cookies as Array<{ name: string }>).some((cookie) => cookie.name.includes('_session')), false)
})

test('userInfo: fetched once at sign-in and kept in the session, its flags as booleans', async (t) => {
  const { signIn, session, idp } = await harness(t, { userInfo: true, scopes: ['openid', 'email', 'phone', 'profile'] }, {
    users: [{ username: 'carol', password: 'carol-password-1', email: 'carol@example.com', emailVerified: false, phoneNumber: '+15555550100' }]
  })
  const { jar } = await signIn('carol')
  const stored = await session(jar)
  assert.equal(stored?.userInfo?.email_verified, false)
  assert.equal(stored?.userInfo?.phone_number_verified, true)
  assert.equal(stored?.userInfo?.sub, stored?.sub)
  assert.equal(idp.requests.userInfo, 1)
})

test('userInfo answering for another user is refused: 502, no session', async (t) => {
  const upstream: { domain?: string } = {}
  // The token endpoint is the real IdP's; userInfo answers for someone else.
  const proxy = await startHttpServer(t, async (request, response) => {
    if (request.url.startsWith('/oauth2/userInfo')) { sendJson(response, 200, { sub: 'someone-else', email: 'x@example.com' }); return }
    const forwarded = await fetch(`${upstream.domain as string}${request.url}`, { method: request.method, headers: { 'content-type': request.headers['content-type'] ?? '' }, body: request.body })
    sendJson(response, forwarded.status, await forwarded.text())
  })
  const { signIn, idp } = await harness(t, { userInfo: true, domain: proxy.origin })
  upstream.domain = idp.domain
  const { response, jar } = await signIn('alice')
  assert.equal(response.statusCode, 502)
  assert.equal(codeOf(response), 'FST_COGNITO_IDP_BAD_RESPONSE')
  assert.equal(response.json().message, 'Cognito userInfo endpoint answered for another user')
  assert.equal([...jar.cookies.keys()].some((name) => name.startsWith('cognito_session')), false)
  assert.equal(idp.requests.tokenAuthorizationCode, 1)
})

test('onLogin: what it returns is kept as the session\'s data; nothing (or null) keeps nothing', async (t) => {
  const seen: Array<{ username: string | undefined, expiresAt: number, refresh: boolean }> = []
  const { signIn, session } = await harness(t, {
    onLogin: async (_request, { user, tokens }) => {
      seen.push({ username: user.username, expiresAt: tokens.expiresAt, refresh: tokens.refreshToken !== undefined })
      if (user.username === 'alice') return { tenant: 'acme', groups: user.groups }
      return user.username === 'bob' ? null as never : undefined
    }
  })
  const alice = await signIn('alice')
  assert.deepEqual((await session(alice.jar))?.data, { tenant: 'acme', groups: ['admin', 'editor'] })
  const bob = await signIn('bob')
  assert.equal(bob.response.statusCode, 302)
  assert.equal((await session(bob.jar))?.data, undefined)
  assert.deepEqual(seen.map((call) => [call.username, call.refresh]), [['alice', true], ['bob', true]])
  assert.ok(seen.every((call) => Number.isInteger(call.expiresAt)))
})

test('onLogin refusing: the refresh token is revoked and no session is stored; the error decides the answer', async (t) => {
  const refusals: Record<string, unknown> = {
    plain: new Error('This account is disabled'),
    typed: new CognitoInvalidTokenError('custom refusal'),
    status: Object.assign(new Error('Come back later'), { statusCode: 409 }),
    string: 'not an error'
  }
  const current = { kind: 'plain' }
  const { signIn, idp } = await harness(t, { onLogin: async () => { throw refusals[current.kind] } })
  const expected: Record<string, [number, string | undefined, string]> = {
    plain: [403, 'FST_COGNITO_LOGIN_REJECTED', 'This account is disabled'],
    typed: [401, 'FST_COGNITO_INVALID_TOKEN', 'custom refusal'],
    status: [409, undefined, 'Come back later'],
    string: [403, 'FST_COGNITO_LOGIN_REJECTED', 'The sign-in was refused']
  }
  let revokes = 0
  for (const [kind, [status, code, message]] of Object.entries(expected)) {
    current.kind = kind
    const { response, jar } = await signIn('bob')
    assert.equal(response.statusCode, status, kind)
    assert.equal(response.json().code, code, kind)
    assert.equal(response.json().message, message, kind)
    assert.equal([...jar.cookies.keys()].some((name) => name.startsWith('cognito_session')), false, kind)
    assert.equal(idp.requests.revoke, ++revokes, `${kind}: revoked`)
  }
})
