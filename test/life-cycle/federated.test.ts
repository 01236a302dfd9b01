import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { CookieJar, location, pluginOptions, startIdp } from '../helpers/app.js'

// Federated users (Google, SAML, OIDC through Cognito), simulated by the local IdP's identityProviders: the tokens
// carry `identities`, the username is `<Provider>_<id>`, and Cognito adds the group `<userPoolId>_<Provider>`.

test('a federated sign-in: request.user.identityProvider, the provider username, and the automatic group in groups', async (t) => {
  const idp = await startIdp(t, {
    identityProviders: [{ name: 'Google', user: { id: '1234567890', email: 'gina@gmail.example', groups: ['beta'] } }]
  })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ user: request.user }))
  const automaticGroup = `${idp.userPoolId}_Google`
  app.get('/google-only', { preHandler: app.cognito.requireAuth({ groups: [automaticGroup] }) }, async (request) => request.user)
  app.get('/beta', { preHandler: app.cognito.requireAuth({ groups: ['beta'] }) }, async (request) => request.user?.groups)

  await app.ready()
  const jar = new CookieJar()
  const start = await app.inject({ url: '/login?identity_provider=Google' })
  jar.store(start)
  const toProvider = await fetch(location(start), { redirect: 'manual' })
  const providerPage = new URL(toProvider.headers.get('location') ?? '', idp.domain)
  assert.equal(providerPage.pathname, '/federated-sign-in')
  const signedIn = await fetch(providerPage, { method: 'POST', redirect: 'manual' })
  const callback = new URL(signedIn.headers.get('location') ?? '')
  const done = await app.inject({ url: callback.pathname + callback.search, headers: { cookie: jar.header } })
  assert.equal(done.statusCode, 302, done.body)
  jar.store(done)

  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
  const { user } = me.json()
  assert.equal(user.identityProvider, 'Google')
  assert.equal(user.username, 'Google_1234567890')
  assert.deepEqual([...user.groups].sort(), [automaticGroup, 'beta'].sort())
  assert.equal(user.email, 'gina@gmail.example')
  assert.equal((await app.inject({ url: '/google-only', headers: { cookie: jar.header } })).statusCode, 200, 'the automatic group can be required')
  assert.equal((await app.inject({ url: '/beta', headers: { cookie: jar.header } })).statusCode, 200)

  // The pool's own users have no identity provider and not the automatic group.
  const own = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await idp.mintAccessToken('alice', idp.clients[0]?.clientId ?? '')}` } })
  assert.equal(own.json().user.identityProvider, undefined)
  assert.equal(own.json().user.groups.includes(automaticGroup), false)
})
