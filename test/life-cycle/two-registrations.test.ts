import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { APP_ORIGIN, CookieJar, location, LOGOUT_URI, pluginOptions, REDIRECT_URI, signInAtIdp, startIdp } from '../helpers/app.js'

test('two registrations side by side (own prefix, app client, cookies) never share a session', async (t) => {
  const idp = await startIdp(t, {
    clients: [
      { clientId: 'shop-client', callbackUrls: [REDIRECT_URI], logoutUrls: [LOGOUT_URI] },
      { clientId: 'admin-client', clientSecret: 'admin-secret-admin-secret', callbackUrls: [`${APP_ORIGIN}/admin/login/redirect`], logoutUrls: [`${APP_ORIGIN}/admin/`] }
    ]
  })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(async (shop) => {
    await shop.register(fastifyCognito, pluginOptions(idp, 'public', { clientId: 'shop-client' }))
    shop.get('/account', { preHandler: shop.cognito.requireAuth() }, async (request) => ({ client: request.tokenPayload?.client_id }))
  })
  await app.register(async (admin) => {
    await admin.register(fastifyCognito, pluginOptions(idp, 'public', {
      clientId: 'admin-client',
      clientSecret: 'admin-secret-admin-secret',
      prefix: '/admin',
      cookieName: 'cognito_admin',
      redirectUri: `${APP_ORIGIN}/admin/login/redirect`,
      logoutUri: `${APP_ORIGIN}/admin/`
    }))
    admin.get('/admin/dashboard', { preHandler: admin.cognito.requireAuth() }, async (request) => ({ client: request.tokenPayload?.client_id }))
  })
  await app.ready()

  const jar = new CookieJar()
  const start = await app.inject({ url: '/login' })
  jar.store(start)
  const callback = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  jar.store(await app.inject({ url: callback.pathname + callback.search, headers: { cookie: jar.header } }))

  assert.deepEqual((await app.inject({ url: '/account', headers: { cookie: jar.header } })).json(), { client: 'shop-client' })
  assert.equal((await app.inject({ url: '/admin/dashboard', headers: { cookie: jar.header } })).statusCode, 401, 'the shop session is not an admin session')
  const adminRedirect = await app.inject({ url: '/admin/dashboard', headers: { cookie: jar.header, accept: 'text/html' } })
  assert.equal(adminRedirect.headers.location, '/admin/login?returnTo=%2Fadmin%2Fdashboard')

  const adminStart = await app.inject({ url: '/admin/login', headers: { cookie: jar.header } })
  assert.equal(new URL(location(adminStart)).searchParams.get('client_id'), 'admin-client')
  jar.store(adminStart)
  const adminCallback = await signInAtIdp(idp, location(adminStart), 'alice', 'alice-password-1')
  jar.store(await app.inject({ url: adminCallback.pathname + adminCallback.search, headers: { cookie: jar.header } }))
  assert.deepEqual((await app.inject({ url: '/admin/dashboard', headers: { cookie: jar.header } })).json(), { client: 'admin-client' })
  assert.deepEqual((await app.inject({ url: '/account', headers: { cookie: jar.header } })).json(), { client: 'shop-client' })

  const adminLogout = await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie: jar.header } })
  jar.store(adminLogout)
  assert.equal((await app.inject({ url: '/admin/dashboard', headers: { cookie: jar.header } })).statusCode, 401)
  assert.equal((await app.inject({ url: '/account', headers: { cookie: jar.header } })).statusCode, 200, 'logging out of one leaves the other')
})
