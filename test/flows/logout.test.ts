import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import { authenticateNow } from '../../lib/authenticate.js'
import type { SignInContext } from '../../lib/context.js'
import { logout } from '../../lib/flows/logout.js'
import { refreshNow } from '../../lib/flows/refresh-now.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CognitoUser } from '../../lib/types.js'
import { buildApp, capturingLogger, CLIENT_IDS, CookieJar, login, LOGOUT_URI, pluginOptions, startIdp, type TestOptions } from '../helpers/app.js'
import { buildSignInContext } from '../helpers/context.js'

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  context: SignInContext
  lines: string[]
  users: Array<CognitoUser | null>
  signIn: () => Promise<CookieJar>
  post: (url: '/logout' | '/refresh' | '/me' | '/access-token', jar?: CookieJar) => Promise<LightMyRequestResponse>
}

/** /logout, /refresh and /me call the flows and authenticateNow on one context; sign-ins go through the plugin. */
async function harness (t: TestContext, overrides: Partial<TestOptions> = {}): Promise<Harness> {
  const idp = await startIdp(t)
  const users: Array<CognitoUser | null> = []
  const { logger, lines } = capturingLogger('info')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', { onLogout: async (_request, user) => { users.push(user) }, ...overrides }))
  app.post('/logout', async (request, reply) => await logout(context, request, reply))
  app.post('/refresh', async (request, reply) => await refreshNow(context, request, reply))
  app.post('/me', async (request) => (await authenticateNow(request, context)).user)
  app.post('/access-token', async (request) => ({ token: context.signIn.store.readSession(request)?.accessToken }))
  await app.ready()
  return {
    idp,
    app,
    context,
    lines,
    users,
    signIn: async () => (await login(await buildApp(t, idp), idp)).jar,
    post: async (url, jar = new CookieJar()) => await app.inject({ method: 'POST', url, headers: { cookie: jar.header } })
  }
}

test('logout: onLogout with the user, the refresh token revoked, every cookie cleared, off to Cognito\'s /logout', async (t) => {
  const { signIn, post, idp, users, lines } = await harness(t)
  const jar = await signIn()
  jar.cookies.set('cognito_login', 'a-login-in-progress')
  const response = await post('/logout', jar)
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers['cache-control'], 'no-store')
  const destination = new URL(response.headers.location as string)
  assert.equal(`${destination.origin}${destination.pathname}`, `${idp.domain}/logout`)
  assert.deepEqual(Object.fromEntries(destination.searchParams), { client_id: CLIENT_IDS.public, logout_uri: LOGOUT_URI })
  assert.deepEqual(users.map((user) => user?.username), ['alice'])
  assert.equal(users[0]?.email, 'alice@example.com')
  assert.equal(idp.requests.revoke, 1)
  jar.store(response)
  assert.equal(jar.cookies.size, 0, 'the session chunks and the login transaction')
  const signedOut = lines.map((line) => JSON.parse(line) as { msg: string, sub?: string }).find((line) => line.msg === 'fastify-cognito: signed out')
  assert.equal(signedOut?.sub, idp.users.find((user) => user.username === 'alice')?.sub)
})

test('logout without a session: onLogout with null, nothing revoked, the same redirect', async (t) => {
  const { post, idp, users, lines } = await harness(t)
  const response = await post('/logout')
  assert.equal(response.statusCode, 302)
  assert.equal(new URL(response.headers.location as string).pathname, '/logout')
  assert.deepEqual(users, [null])
  assert.equal(idp.requests.revoke, 0)
  assert.equal(response.headers['set-cookie'], undefined, 'no cookie to clear')
  assert.equal(lines.some((line) => line.includes('signed out')), false)
})

test('without logoutUri the logout ends on afterLoginRedirect, without onLogout it just ends', async (t) => {
  const { signIn, post } = await harness(t, { logoutUri: undefined, afterLoginRedirect: '/bye', onLogout: undefined })
  const response = await post('/logout', await signIn())
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, '/bye')
})

test('the signed-out access token is refused by this process at once, in the cookie or as a Bearer token', async (t) => {
  const { signIn, post, app } = await harness(t)
  const jar = await signIn()
  const copy = jar.clone()
  const token = (await post('/access-token', jar)).json().token as string
  assert.equal((await post('/me', jar)).statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  await post('/logout', jar)
  const replay = await post('/me', copy)
  assert.equal(replay.statusCode, 401)
  assert.equal(replay.json().message, 'Token was revoked by a sign-out')
  const asBearer = await app.inject({ method: 'POST', url: '/me', headers: { authorization: `Bearer ${token}` } })
  assert.equal(asBearer.statusCode, 401)
  assert.equal(asBearer.json().message, 'Token was revoked by a sign-out')
  const session = (await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: copy.header } }))
  assert.equal(session.statusCode, 401, 'and the revoked refresh token cannot be used either')
})

test('logout forgets a refresh remembered under the session\'s refresh token: an older copy of the cookie cannot pick it up', async (t) => {
  const { signIn, post } = await harness(t)
  const jar = await signIn()
  const beforeRefresh = jar.clone()
  const refreshed = await post('/refresh', jar)
  assert.equal(refreshed.statusCode, 200)
  jar.store(refreshed)
  assert.equal((await post('/refresh', beforeRefresh)).statusCode, 200, 'control: within 30 s the old cookie gets the remembered refresh')
  await post('/logout', jar)
  const stale = await post('/refresh', beforeRefresh)
  assert.equal(stale.statusCode, 401)
  assert.equal(stale.json().code, 'FST_COGNITO_SESSION_EXPIRED')
})

test('logout: a copied session cookie replayed afterwards is refused by this process, not only cleared', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const copy = jar.clone()
  const logout = await app.inject({ url: '/logout', headers: { cookie: jar.header } })
  assert.equal(logout.statusCode, 302)
  const replay = await app.inject({ url: '/me', headers: { cookie: copy.header, accept: 'application/json' } })
  assert.equal(replay.statusCode, 401)
  assert.equal(replay.json().code, 'FST_COGNITO_INVALID_TOKEN')
  const browser = await app.inject({ url: '/me', headers: { cookie: copy.header, accept: 'text/html' } })
  assert.equal(browser.statusCode, 302, 'a browser is sent to sign in again')
  // Another user's session is untouched.
  const other = await login(app, idp, { username: 'bob' })
  assert.equal((await app.inject({ url: '/me', headers: { cookie: other.jar.header } })).statusCode, 200)
})
