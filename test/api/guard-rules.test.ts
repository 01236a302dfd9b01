import { test } from 'node:test'
import assert from 'node:assert/strict'
import { apiApp, bearer, startApiIdp, WEB } from './helpers.js'

test('anyScope: one listed scope is enough; scopes alone requires all of them', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer }, (app) => {
    app.get('/all', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read', 'orders/write'] }) }, async () => ({ ok: true }))
    app.get('/any', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read', 'orders/write'], anyScope: true }) }, async () => ({ ok: true }))
  })
  const readOnly = bearer(await idp.mintAccessToken('alice', WEB, { claims: { scope: 'openid orders/read' } }))
  const none = bearer(await idp.mintAccessToken('alice', WEB, { claims: { scope: 'openid' } }))
  const both = bearer(await idp.mintAccessToken('alice', WEB, { claims: { scope: 'orders/read orders/write' } }))
  const all = await app.inject({ url: '/all', headers: readOnly })
  assert.equal(all.statusCode, 403)
  assert.equal(all.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="orders/read orders/write"')
  assert.equal((await app.inject({ url: '/all', headers: both })).statusCode, 200)
  assert.equal((await app.inject({ url: '/any', headers: readOnly })).statusCode, 200)
  assert.equal((await app.inject({ url: '/any', headers: none })).statusCode, 403)
})

test('optional: no credentials run the handler with request.user null; a credential that is present must be valid', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer }, (app) => {
    app.get('/feed', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({ user: request.user?.username ?? null }))
    app.get('/feed-admin', { preHandler: app.cognito.requireAuth({ optional: true, groups: ['admin'] }) }, async (request) => ({ user: request.user?.username ?? null }))
  })
  assert.deepEqual((await app.inject({ url: '/feed' })).json(), { user: null })
  assert.deepEqual((await app.inject({ url: '/feed', headers: bearer(await idp.mintAccessToken('bob', WEB)) })).json(), { user: 'bob' })
  const invalid = await app.inject({ url: '/feed', headers: bearer('not.a.token') })
  assert.equal(invalid.statusCode, 401)
  const expired = await app.inject({ url: '/feed', headers: bearer(await idp.mintAccessToken('bob', WEB, { expiresInSeconds: -60 })) })
  assert.equal(expired.statusCode, 401)
  assert.equal(expired.json().code, 'FST_COGNITO_TOKEN_EXPIRED')
  // The other rules still hold for a present token.
  assert.equal((await app.inject({ url: '/feed-admin', headers: bearer(await idp.mintAccessToken('bob', WEB)) })).statusCode, 403)
  assert.deepEqual((await app.inject({ url: '/feed-admin' })).json(), { user: null })
})

test('isRevoked: the app\'s own revocation list is asked on every guarded request, cached tokens included', async (t) => {
  const idp = await startApiIdp(t)
  const revoked = new Set<string>()
  const asked: string[] = []
  const sync = await apiApp(t, {
    userPoolId: idp.userPoolId,
    clientId: WEB,
    issuer: idp.issuer,
    isRevoked: (claims) => { asked.push(String(claims.jti)); return revoked.has(String(claims.jti)) }
  })
  const token = await idp.mintAccessToken('alice', WEB)
  const jti = String(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).jti)
  assert.equal((await sync.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  assert.equal((await sync.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'cached now')
  revoked.add(jti)
  const refused = await sync.inject({ url: '/me', headers: bearer(token) })
  assert.equal(refused.statusCode, 401)
  assert.equal(refused.json().code, 'FST_COGNITO_INVALID_TOKEN')
  assert.match(refused.headers['www-authenticate'] as string, /error="invalid_token"/)
  assert.deepEqual(asked, [jti, jti, jti])

  const async = await apiApp(t, {
    userPoolId: idp.userPoolId,
    clientId: WEB,
    issuer: idp.issuer,
    isRevoked: async (claims) => await Promise.resolve(claims.username === 'bob')
  })
  assert.equal((await async.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', WEB)) })).statusCode, 200)
  assert.equal((await async.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('bob', WEB)) })).statusCode, 401)
})
