import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type CognitoUser } from '../../lib/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CookieJar, location, login, pluginOptions, signInAtIdp, startIdp, type TestOptions } from '../helpers/app.js'

// Issue 11, finding 7: request.cognito.isAuthenticated() skipped maxSessionAge, and request.cognito.sessionData
// returned whatever decrypted, also after logout and after maxSessionAge: both must apply the guard's session
// checks. And two registrations sharing one sessionSecret (the README's several-app-clients example) could decrypt
// each other's cookies, so one registration's sessionData and onLogout saw the other's user: each registration's
// keys are derived with its client id and cookie name.

/** Routes that show what the request helpers say, beside a guarded one. */
function addRoutes (app: FastifyInstance, prefix = ''): void {
  app.get(`${prefix}/status`, async (request) => ({ authenticated: await request.cognito.isAuthenticated(), data: request.cognito.sessionData ?? null }))
  app.get(`${prefix}/guarded`, { preHandler: app.cognito.requireAuth() }, async (request) => ({ client: request.tokenPayload?.client_id }))
}

async function status (app: FastifyInstance, cookie: string, prefix = ''): Promise<{ authenticated: boolean, data: unknown }> {
  const response = await app.inject({ url: `${prefix}/status`, headers: { cookie } })
  assert.equal(response.statusCode, 200)
  return response.json()
}

async function singleApp (t: TestContext, overrides: Partial<TestOptions>): Promise<{ idp: LocalCognito, app: FastifyInstance }> {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { onLogin: async (_request, { user }) => ({ accountId: `acct-${user.username}` }), ...overrides }))
  addRoutes(app)
  await app.ready()
  return { idp, app }
}

test('after maxSessionAge, isAuthenticated() is false and sessionData undefined, as the guard says', async (t) => {
  const clock = { now: Date.now() }
  const { idp, app } = await singleApp(t, { maxSessionAge: 600, now: () => clock.now })
  const { jar } = await login(app, idp)
  assert.deepEqual(await status(app, jar.header), { authenticated: true, data: { accountId: 'acct-alice' } })
  clock.now += 590_000
  assert.deepEqual(await status(app, jar.header), { authenticated: true, data: { accountId: 'acct-alice' } }, 'control: 590 s after sign-in')
  clock.now += 11_000
  // The helpers first: the guard would also end the session, which would hide what the helpers check themselves.
  assert.deepEqual(await status(app, jar.header), { authenticated: false, data: null })
  const guarded = await app.inject({ url: '/guarded', headers: { cookie: jar.header } })
  assert.equal(guarded.statusCode, 401)
  assert.equal(guarded.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.deepEqual(await status(app, jar.header), { authenticated: false, data: null })
})

test('for a copy of the cookies taken before logout, isAuthenticated() is false and sessionData undefined', async (t) => {
  const { idp, app } = await singleApp(t, {})
  const { jar } = await login(app, idp)
  const copy = jar.clone()
  assert.deepEqual(await status(app, copy.header), { authenticated: true, data: { accountId: 'acct-alice' } })
  const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  assert.equal(logout.statusCode, 302)
  jar.store(logout)
  assert.deepEqual(await status(app, copy.header), { authenticated: false, data: null })
  assert.equal((await app.inject({ url: '/guarded', headers: { cookie: copy.header } })).statusCode, 401)
  assert.deepEqual(await status(app, jar.header), { authenticated: false, data: null }, 'and the browser has no session')
})

interface TwoApps {
  idp: LocalCognito
  app: FastifyInstance
  /** What each registration's onLogout received. */
  loggedOut: { shop: Array<CognitoUser | null>, admin: Array<CognitoUser | null> }
}

/** The README's several-app-clients example: one sessionSecret, own prefix, cookie name and app client. */
async function twoRegistrations (t: TestContext): Promise<TwoApps> {
  const idp = await startIdp(t, {
    clients: [
      { clientId: 'shop-client', callbackUrls: ['http://localhost:3000/login/redirect'], logoutUrls: ['http://localhost:3000/'] },
      { clientId: 'admin-client', clientSecret: 'admin-secret-admin-secret', callbackUrls: ['http://localhost:3000/admin/login/redirect'], logoutUrls: ['http://localhost:3000/admin/'] }
    ]
  })
  const loggedOut: TwoApps['loggedOut'] = { shop: [], admin: [] }
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(async (shop) => {
    await shop.register(fastifyCognito, pluginOptions(idp, 'public', {
      clientId: 'shop-client',
      onLogin: async (_request, { user }) => ({ app: 'shop', user: user.username }),
      onLogout: async (_request, user) => { loggedOut.shop.push(user) }
    }))
    addRoutes(shop)
  })
  await app.register(async (admin) => {
    await admin.register(fastifyCognito, pluginOptions(idp, 'public', {
      clientId: 'admin-client',
      clientSecret: 'admin-secret-admin-secret',
      prefix: '/admin',
      cookieName: 'cognito_admin',
      redirectUri: 'http://localhost:3000/admin/login/redirect',
      logoutUri: 'http://localhost:3000/admin/',
      onLogin: async (_request, { user }) => ({ app: 'admin', user: user.username }),
      onLogout: async (_request, user) => { loggedOut.admin.push(user) }
    }))
    addRoutes(admin, '/admin')
  })
  await app.ready()
  return { idp, app, loggedOut }
}

async function signInTo (app: FastifyInstance, idp: LocalCognito, prefix: string): Promise<CookieJar> {
  const jar = new CookieJar()
  const start = await app.inject({ url: `${prefix}/login` })
  jar.store(start)
  const callback = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  const response = await app.inject({ url: callback.pathname + callback.search, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 302)
  return jar.store(response)
}

/** The jar's cookies named `<from>…` renamed `<to>…`, values unchanged. */
function renamed (jar: CookieJar, from: string, to: string): string {
  return [...jar.cookies].filter(([name]) => name.startsWith(from)).map(([name, value]) => `${to}${name.slice(from.length)}=${value}`).join('; ')
}

test('two registrations sharing a sessionSecret: one\'s session cookies under the other\'s names are no session there', async (t) => {
  const { idp, app, loggedOut } = await twoRegistrations(t)
  const shopJar = await signInTo(app, idp, '')
  assert.deepEqual(await status(app, shopJar.header), { authenticated: true, data: { app: 'shop', user: 'alice' } }, 'control')

  const asAdmin = renamed(shopJar, 'cognito_session.', 'cognito_admin_session.')
  assert.match(asAdmin, /^cognito_admin_session\.0=/)
  const guarded = await app.inject({ url: '/admin/guarded', headers: { cookie: asAdmin } })
  assert.equal(guarded.statusCode, 401)
  assert.equal(guarded.json().code, 'FST_COGNITO_UNAUTHENTICATED', 'not even decrypted: no session at all')
  assert.deepEqual(await status(app, asAdmin, '/admin'), { authenticated: false, data: null })

  const logout = await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie: asAdmin } })
  assert.equal(logout.statusCode, 302)
  assert.deepEqual(loggedOut.admin, [null], 'the admin registration\'s onLogout sees nobody')
  assert.equal(idp.requests.revoke, 0, 'and it revokes nothing of the shop\'s session')
  assert.equal((await app.inject({ url: '/guarded', headers: { cookie: shopJar.header } })).statusCode, 200, 'the shop session goes on')
  assert.deepEqual(loggedOut.shop, [])
})

test('two registrations sharing a sessionSecret: the other way round, and for the login-transaction cookie', async (t) => {
  const { idp, app, loggedOut } = await twoRegistrations(t)
  const adminJar = await signInTo(app, idp, '/admin')
  assert.deepEqual(await status(app, adminJar.header, '/admin'), { authenticated: true, data: { app: 'admin', user: 'alice' } }, 'control')
  const asShop = renamed(adminJar, 'cognito_admin_session.', 'cognito_session.')
  assert.equal((await app.inject({ url: '/guarded', headers: { cookie: asShop } })).json().code, 'FST_COGNITO_UNAUTHENTICATED')
  assert.deepEqual(await status(app, asShop), { authenticated: false, data: null })
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers: { cookie: asShop } })).statusCode, 302)
  assert.deepEqual(loggedOut.shop, [null])
  assert.equal(idp.requests.revoke, 0)

  // A login the shop started, completed at the admin registration's callback with the cookie renamed.
  const start = await app.inject({ url: '/login' })
  const shopLogin = new CookieJar().store(start)
  const state = new URL(location(start)).searchParams.get('state') ?? ''
  const callback = await app.inject({
    url: `/admin/login/redirect?code=some-code&state=${encodeURIComponent(state)}`,
    headers: { cookie: renamed(shopLogin, 'cognito_login', 'cognito_admin_login') }
  })
  assert.equal(callback.statusCode, 400)
  assert.equal(callback.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
})
