import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito, { type CognitoUser } from '../../lib/index.js'
import { CookieJar, location, login, pluginOptions, signInAtIdp, startIdp } from '../helpers/app.js'

test('onLogin sees the verified user and tokens, and what it returns is request.cognito.sessionData', async (t) => {
  const idp = await startIdp(t)
  const seen: Array<{ username: string, hasRefreshToken: boolean, expiresAt: number }> = []
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', {
    onLogin: async (_request, { user, tokens }) => {
      seen.push({ username: user.username ?? '(machine)', hasRefreshToken: tokens.refreshToken !== undefined, expiresAt: tokens.expiresAt })
      return { tenantId: 'acme', roles: user.groups.map((group) => group.toUpperCase()) }
    }
  }))
  app.get('/data', { preHandler: app.cognito.requireAuth() }, async (request) => request.cognito.sessionData ?? null)
  const { jar } = await login(app, idp)
  assert.equal(seen.length, 1)
  assert.equal(seen[0]?.username, 'alice')
  assert.equal(seen[0]?.hasRefreshToken, true)
  const data = await app.inject({ url: '/data', headers: { cookie: jar.header } })
  assert.deepEqual(data.json(), { tenantId: 'acme', roles: ['ADMIN', 'EDITOR'] })
})

test('onLogin refusing the sign-in: 403, no session, the refresh token is revoked', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', {
    onLogin: async (_request, { user }) => {
      if (user.username === 'bob') throw new Error('This account is disabled')
    }
  }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => request.user)
  const start = await app.inject({ url: '/login' })
  const jar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'bob', 'bob-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(callback.statusCode, 403)
  assert.equal(callback.json().code, 'FST_COGNITO_LOGIN_REJECTED')
  assert.equal(callback.json().message, 'This account is disabled')
  jar.store(callback)
  assert.equal([...jar.cookies.keys()].some((name) => name.startsWith('cognito_session')), false)
  assert.equal(idp.requests.revoke, 1)
  const allowed = await login(app, idp, { username: 'alice' })
  assert.equal(allowed.callback.statusCode, 302)
})

test('an onLogin error with its own statusCode keeps it', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', {
    onLogin: async () => { throw Object.assign(new Error('Come back later'), { statusCode: 409 }) }
  }))
  const { callback } = await login(app, idp)
  assert.equal(callback.statusCode, 409)
})

test('onRefresh and onLogout run with the user', async (t) => {
  const idp = await startIdp(t)
  const calls: Array<[string, string | null]> = []
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', {
    onRefresh: async (_request, user: CognitoUser) => { calls.push(['refresh', user.username ?? '(machine)']) },
    onLogout: async (_request, user: CognitoUser | null) => { calls.push(['logout', user?.username ?? null]) }
  }))
  const { jar } = await login(app, idp)
  jar.store(await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } }))
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  await app.inject({ method: 'POST', url: '/logout' })
  assert.deepEqual(calls, [['refresh', 'alice'], ['logout', 'alice'], ['logout', null]])
})
