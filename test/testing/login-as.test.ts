import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { createTokenIssuer, loginAs } from '../../lib/testing/index.js'
import { buildApp, startIdp } from '../helpers/app.js'

test('loginAs runs the real login flow and gives the Cookie header of a signed-in browser', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const cookie = await loginAs(app, 'alice')
  const names = cookie.split('; ').map(pair => pair.slice(0, pair.indexOf('=')))
  assert.ok(names.length > 0 && names.every((name, index) => name === `cognito_session.${index}`), 'only the session chunks')
  assert.deepEqual([idp.requests.authorize, idp.requests.login, idp.requests.tokenAuthorizationCode], [1, 1, 1])

  const me = await app.inject({ url: '/me', headers: { cookie } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.username, 'alice')
  assert.equal((await app.inject({ url: '/admin', headers: { cookie } })).statusCode, 200)

  const bob = await loginAs(app, 'BOB')
  assert.equal((await app.inject({ url: '/me', headers: { cookie: bob } })).json().user.username, 'bob')
  assert.equal((await app.inject({ url: '/admin', headers: { cookie: bob } })).statusCode, 403)

  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie } })
  assert.equal(refresh.statusCode, 200)
  const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie } })
  assert.equal(logout.statusCode, 302)
})

test('loginAs with explicit credentials, a confidential client and a prefix', async (t) => {
  const idp = await startIdp(t, {
    clients: [{
      clientId: 'test-confidential-client',
      clientSecret: 'confidential-client-secret-0123456789',
      callbackUrls: ['http://localhost:3000/auth/login/redirect']
    }]
  })
  const app = await buildApp(t, idp, 'confidential', { prefix: '/auth', redirectUri: 'http://localhost:3000/auth/login/redirect', logoutUri: undefined })
  const cookie = await loginAs(app, { username: 'bob', password: 'bob-password-1' })
  assert.equal((await app.inject({ url: '/me', headers: { cookie } })).json().user.username, 'bob')
  await assert.rejects(loginAs(app, { username: 'bob', password: 'wrong-password' }), /the IdP refused the sign-in of "bob"/)
  await assert.rejects(loginAs(app, 'mallory'), /the local IdP has no user "mallory"/)
})

test('loginAs keeps the cookies it is given and explains what it cannot do', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const cookie = await loginAs(app, 'alice', { cookie: 'theme=dark' })
  assert.match(cookie, /^theme=dark; cognito_session\.0=/)

  const issuer = await createTokenIssuer()
  const detached = Fastify()
  t.after(async () => { await detached.close() })
  await detached.register(fastifyCognito, issuer.pluginOptions())
  await assert.rejects(loginAs(detached, 'alice'), /no local IdP of this process runs at https:\/\/local-cognito\.invalid; pass \{ username, password \}/)

  const bare = Fastify()
  t.after(async () => { await bare.close() })
  await assert.rejects(loginAs(bare, 'alice'), /register fastify-cognito on this app first/)

  await idp.close()
  await assert.rejects(loginAs(app, 'alice'), /no local IdP of this process runs at/)
})
