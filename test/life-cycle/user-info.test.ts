import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { CLIENT_IDS, login, pluginOptions, startIdp } from '../helpers/app.js'

test('userInfo: true fetches /oauth2/userInfo once at sign-in and merges it into request.user', async (t) => {
  const idp = await startIdp(t, {
    users: [{ username: 'carol', password: 'carol-password-1', email: 'carol@example.com', emailVerified: false, phoneNumber: '+15555550100', attributes: { 'custom:tenant': 'acme' } }]
  })
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { userInfo: true, scopes: ['openid', 'email', 'phone', 'profile'] }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => request.user)
  const { jar } = await login(app, idp, { username: 'carol' })
  assert.equal(idp.requests.userInfo, 1)
  for (let i = 0; i < 3; i++) {
    const user = (await app.inject({ url: '/me', headers: { cookie: jar.header } })).json()
    assert.equal(user.emailVerified, false, 'the string "false" of userInfo is a boolean')
    assert.equal(user.claims.email_verified, false)
    assert.equal(user.claims.phone_number_verified, true)
    assert.equal(user.claims.phone_number, '+15555550100')
    assert.equal(user.claims['custom:tenant'], 'acme')
  }
  assert.equal(idp.requests.userInfo, 1, 'never per request')
})

test('check: a predicate on the user (and request) decides beyond groups and scopes', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/own/:username', {
    preHandler: app.cognito.requireAuth({ check: async (user, request) => user.username === (request.params as { username: string }).username })
  }, async () => ({ ok: true }))
  const alice = `Bearer ${await idp.mintAccessToken('alice', CLIENT_IDS.public)}`
  assert.equal((await app.inject({ url: '/own/alice', headers: { authorization: alice } })).statusCode, 200)
  const other = await app.inject({ url: '/own/bob', headers: { authorization: alice, accept: 'text/html' } })
  assert.equal(other.statusCode, 403)
  assert.equal(other.json().code, 'FST_COGNITO_FORBIDDEN')
})
