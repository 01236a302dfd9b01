import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import type { CognitoUser } from '../../lib/types.js'
import { buildApp, CLIENT_IDS, login, pluginOptions, startIdp } from '../helpers/app.js'

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

test('request.user and request.tokenPayload are shared and frozen: a handler cannot change the next request', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  const seen: CognitoUser[] = []
  app.get('/mutate', { preHandler: app.cognito.requireAuth() }, async (request) => {
    const user = request.user as CognitoUser
    seen.push(user)
    const attempts = [
      () => { user.groups.push('root') },
      () => { user.scopes.push('admin') },
      () => { (user as { username: string }).username = 'mallory' },
      () => { (request.tokenPayload as { sub: string }).sub = 'someone-else' },
      () => { (user.claims['cognito:groups'] as string[])[0] = 'root' }
    ]
    return { refused: attempts.filter((attempt) => { try { attempt(); return false } catch { return true } }).length, groups: user.groups }
  })
  await app.ready()
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const headers = { authorization: `Bearer ${token}` }
  const first = (await app.inject({ url: '/mutate', headers })).json()
  const second = (await app.inject({ url: '/mutate', headers })).json()
  assert.deepEqual(first, { refused: 5, groups: ['admin', 'editor'] })
  assert.deepEqual(second, first)
  assert.equal(seen[0], seen[1], 'one user object for the token, built once')

  const { jar } = await login(app, idp)
  const a = (await app.inject({ url: '/mutate', headers: { cookie: jar.header } })).json()
  const b = (await app.inject({ url: '/mutate', headers: { cookie: jar.header } })).json()
  assert.deepEqual(a, { refused: 5, groups: ['admin', 'editor'] })
  assert.deepEqual(b, a)
  assert.equal(seen[2], seen[3], 'one user object for the session, built once')
  assert.equal(seen[2]?.email, 'alice@example.com', 'the session user still has the ID-token claims')
})

test('the Bearer fast path accepts exactly what the header grammar accepts', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const status = async (authorization: string): Promise<number> => (await app.inject({ url: '/me', headers: { authorization } })).statusCode
  assert.equal(await status(`Bearer ${token}`), 200) // now cached
  assert.equal(await status(`Bearer ${token}`), 200)
  assert.equal(await status(`bearer ${token}`), 200)
  assert.equal(await status(`Bearer   ${token}  `), 200)
  assert.equal(await status(`Bearer ${token}x`), 401)
  assert.equal(await status(`Bearer ${token} x`), 401)
  assert.equal(await status(`Bearer ${token.slice(0, -1)}`), 401)
  assert.equal(await status(`Bearer\t${token}`), 401)
  assert.equal(await status(`Basic ${token}`), 401)
})

test('an expired cached token is refused by the guard', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { clockTolerance: 0 })
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public, { expiresInSeconds: 2 })
  assert.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, 'FST_COGNITO_TOKEN_EXPIRED')
})
