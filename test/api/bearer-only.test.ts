import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito, { CognitoInvalidOptionError } from '../../lib/index.js'
import { apiApp, bearer, startApiIdp, WEB } from './helpers.js'

// An API that checks Bearer tokens: `{ userPoolId, clientId }` (and `issuer`, only because the local Cognito runs on
// loopback) is the whole registration. No routes, no cookies, no session secret, no network call but the JWKS.

test('a bearer-only registration: guards accept Bearer tokens, nothing else is registered or called', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer })
  const token = await idp.mintAccessToken('alice', WEB)

  const me = await app.inject({ url: '/me', headers: bearer(token) })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.username, 'alice')
  assert.equal(me.json().user.clientId, WEB)
  assert.equal(me.json().user.userPoolId, idp.userPoolId)
  assert.equal(me.json().user.isMachine, false)
  assert.equal(me.headers['set-cookie'], undefined)

  for (const url of ['/login', '/login/redirect?code=c&state=s', '/logout']) {
    assert.equal((await app.inject({ url })).statusCode, 404, `${url} is not registered`)
  }
  assert.equal((await app.inject({ method: 'POST', url: '/refresh' })).statusCode, 404)
  assert.equal(app.cognito.loginPath, '/login', 'the paths are still reported')

  // Without a token: 401 with WWW-Authenticate, never a login redirect, also for a browser.
  for (const accept of ['application/json', 'text/html']) {
    const anonymous = await app.inject({ url: '/me', headers: { accept } })
    assert.equal(anonymous.statusCode, 401, accept)
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer')
    assert.equal(anonymous.json().code, 'FST_COGNITO_UNAUTHENTICATED')
  }
  // A cookie is never read.
  assert.equal((await app.inject({ url: '/me', headers: { cookie: 'cognito_session.0=anything' } })).statusCode, 401)

  const { jwks, ...others } = idp.requests
  assert.ok(jwks >= 1, 'the JWKS was fetched')
  assert.ok(Object.values(others).every((count) => count === 0), `no other call: ${JSON.stringify(others)}`)
})

test('request.cognito in a bearer-only registration: login, logout and refresh are typed errors; the rest works', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer }, (app) => {
    app.get('/status', async (request) => ({ authenticated: await request.cognito.isAuthenticated(), data: request.cognito.sessionData ?? null }))
    app.get('/helpers/:name', async (request, reply) => {
      const name = (request.params as { name: 'login' | 'logout' | 'refresh' }).name
      try {
        await request.cognito[name](reply)
        return { threw: false }
      } catch (error) {
        return { threw: true, code: (error as CognitoInvalidOptionError).code, message: (error as Error).message }
      }
    })
  })
  const token = await idp.mintAccessToken('bob', WEB)
  assert.deepEqual((await app.inject({ url: '/status', headers: bearer(token) })).json(), { authenticated: true, data: null })
  assert.deepEqual((await app.inject({ url: '/status' })).json(), { authenticated: false, data: null })
  for (const name of ['login', 'logout', 'refresh']) {
    const answer = (await app.inject({ url: `/helpers/${name}` })).json()
    assert.equal(answer.threw, true, name)
    assert.equal(answer.code, 'FST_COGNITO_INVALID_OPTION')
    assert.match(answer.message, new RegExp(`request\\.cognito\\.${name}\\(\\) needs browser sign-in`))
  }
})

test('browser sign-in needs domain, redirectUri and sessionSecret together: some but not all is an options error naming the missing ones', async (t) => {
  const base = { userPoolId: 'eu-west-1_AbCdEf123', clientId: WEB }
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ domain: 'https://auth.example.com' }, /option "redirectUri" is required for browser sign-in: "domain" was given, so give "redirectUri" and "sessionSecret" \(a secret of at least 32 characters\) too/],
    [{ redirectUri: 'https://app.example.com/login/redirect', sessionSecret: 'x'.repeat(32) }, /option "domain" is required for browser sign-in/],
    [{ domain: 'https://auth.example.com', redirectUri: 'https://app.example.com/login/redirect' }, /option "sessionSecret" is required/],
    [{ clientSecret: 'secret' }, /option "clientSecret" needs browser sign-in/],
    [{ onLogin: () => {} }, /option "onLogin" needs browser sign-in/]
  ]
  for (const [extra, message] of cases) {
    const app = Fastify()
    t.after(async () => { await app.close() })
    await assert.rejects(async () => { await app.register(fastifyCognito, { ...base, ...extra } as never) }, (error: unknown) => {
      assert.ok(error instanceof CognitoInvalidOptionError)
      assert.match(error.message, message)
      return true
    })
  }
})
