import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { createLocalJWKSet, jwtVerify } from 'jose'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'
import { createTokenIssuer, mintTokens, type CognitoTokenIssuer } from '../../lib/testing/index.js'
import { decodePart } from './local-cognito-helpers.js'

async function buildApp (t: TestContext, options: FastifyCognitoOptions): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => request.user)
  app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async () => ({ ok: true }))
  app.get('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => [])
  await app.ready()
  return app
}

async function get (app: FastifyInstance, url: string, token: string): Promise<{ status: number, body: Record<string, unknown> }> {
  const response = await app.inject({ url, headers: { authorization: `Bearer ${token}` } })
  return { status: response.statusCode, body: response.json() }
}

test('createTokenIssuer: a Cognito-shaped pool without a server, ready for the plugin', async (t) => {
  const issuer = await createTokenIssuer()
  assert.match(issuer.userPoolId, /^us-east-1_[0-9A-Za-z]{9}$/)
  assert.equal(issuer.region, 'us-east-1')
  assert.equal(issuer.issuer, `https://cognito-idp.us-east-1.amazonaws.com/${issuer.userPoolId}`)
  assert.equal(issuer.clientId, 'local-test-client')
  assert.deepEqual(issuer.users.map(user => [user.username, user.groups ?? []]), [['alice', ['admin']], ['bob', []]])
  assert.equal(issuer.jwks.keys.length, 2)

  const options = issuer.pluginOptions()
  assert.deepEqual(options.jwks, issuer.jwks)
  assert.equal(options.issuer, issuer.issuer)
  assert.ok(typeof options.sessionSecret === 'string' && options.sessionSecret.length >= 32)
  assert.deepEqual(issuer.pluginOptions({ prefix: '/auth' }).prefix, '/auth')

  const app = await buildApp(t, options)
  const me = await get(app, '/me', issuer.mintAccessToken())
  assert.equal(me.status, 200)
  assert.equal(me.body.username, 'alice')
  assert.deepEqual(me.body.groups, ['admin'])
  assert.equal((await get(app, '/admin', issuer.mintAccessToken())).status, 200)
  const bob = await get(app, '/admin', issuer.mintAccessToken({}, { username: 'bob' }))
  assert.deepEqual([bob.status, bob.body.code], [403, 'FST_COGNITO_FORBIDDEN'])
})

test('claims are merged over the defaults; undefined removes one; users and scopes are configurable', async (t) => {
  const issuer = await createTokenIssuer({
    userPoolId: 'eu-west-1_AbCdEf123',
    clientId: 'my-app-client',
    users: [{ username: 'carol', password: 'unused-password', email: 'carol@example.com', attributes: { 'custom:tenant': 'acme' } }],
    scopes: ['openid', 'orders/read'],
    tokenValiditySeconds: 120
  })
  assert.equal(issuer.region, 'eu-west-1')
  assert.equal(issuer.issuer, 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123')
  const app = await buildApp(t, issuer.pluginOptions())

  const access = issuer.mintAccessToken()
  const claims = decodePart(access, 1)
  assert.equal(claims.client_id, 'my-app-client')
  assert.equal(claims.scope, 'openid orders/read')
  assert.equal(claims['cognito:groups'], undefined, 'no groups, no claim, as with Cognito')
  assert.equal(Number(claims.exp) - Number(claims.iat), 120)
  assert.equal((await get(app, '/orders', access)).status, 200)

  const editor = await get(app, '/me', issuer.mintAccessToken({ 'cognito:groups': ['editor'] }))
  assert.deepEqual(editor.body.groups, ['editor'])
  const noScope = await get(app, '/orders', issuer.mintAccessToken({ scope: 'openid' }))
  assert.deepEqual([noScope.status, noScope.body.code], [403, 'FST_COGNITO_FORBIDDEN'])
  assert.equal('username' in decodePart(issuer.mintAccessToken({ username: undefined }), 1), false)

  const id = decodePart(issuer.mintIdToken({}, { nonce: 'n-1' }), 1)
  assert.deepEqual([id.aud, id.token_use, id.email, id['custom:tenant'], id.nonce], ['my-app-client', 'id', 'carol@example.com', 'acme', 'n-1'])
  assert.deepEqual(await app.cognito.verifyIdToken(issuer.mintIdToken({}, { nonce: 'n-1' }), { nonce: 'n-1' }).then(verified => verified['cognito:username']), 'carol')
})

test('negative tokens: expired, another app client, an ID token, another pool, another key, alg none', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await buildApp(t, issuer.pluginOptions())
  const refused = async (token: string, code = 'FST_COGNITO_INVALID_TOKEN'): Promise<void> => {
    const answer = await get(app, '/me', token)
    assert.deepEqual([answer.status, answer.body.code], [401, code])
  }
  await refused(issuer.mintAccessToken({}, { expiresInSeconds: -60 }), 'FST_COGNITO_TOKEN_EXPIRED')
  await refused(issuer.mintAccessToken({}, { clientId: 'another-app-client' }))
  await refused(issuer.mintIdToken())
  await refused(issuer.mintAccessToken({ token_use: 'id' }))
  await refused(issuer.mintAccessToken({ iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1234' }))
  await refused((await createTokenIssuer({ userPoolId: 'us-east-1_Other1234' })).mintAccessToken())
  // Two issuers with default options are two pools, although they sign with the same (cached) keys.
  await refused((await createTokenIssuer()).mintAccessToken())
  await refused(issuer.mintAccessToken({}, { header: { kid: 'not-a-pool-key=' } }))
  await refused(issuer.mintAccessToken({}, { header: { alg: 'none' } }))
})

test('the issuer clock: tokens minted a day ago are expired, tokens from tomorrow are refused (iat)', async (t) => {
  for (const [offsetHours, code] of [[-24, 'FST_COGNITO_TOKEN_EXPIRED'], [24, 'FST_COGNITO_INVALID_TOKEN']] as const) {
    const issuer = await createTokenIssuer({ now: () => Date.now() + offsetHours * 3600 * 1000 })
    const app = await buildApp(t, issuer.pluginOptions())
    const answer = await get(app, '/me', issuer.mintAccessToken())
    assert.deepEqual([answer.status, answer.body.code], [401, code])
  }
})

test('mintTokens: one sign-in as an access and an ID token, with the issuer that accepts them', async (t) => {
  const { accessToken, idToken, issuer } = await mintTokens({ 'cognito:groups': ['admin', 'editor'], 'custom:plan': 'pro' }, { username: 'bob' })
  const access = decodePart(accessToken, 1)
  const id = decodePart(idToken, 1)
  assert.deepEqual([access.username, access['cognito:groups'], access['custom:plan']], ['bob', ['admin', 'editor'], 'pro'])
  assert.deepEqual([id['cognito:username'], id['cognito:groups'], id['custom:plan']], ['bob', ['admin', 'editor'], 'pro'])
  assert.equal(id.sub, access.sub)
  assert.equal(typeof id.at_hash, 'string')

  const app = await buildApp(t, issuer.pluginOptions())
  assert.equal((await get(app, '/admin', accessToken)).status, 200)
  assert.equal((await app.cognito.verifyIdToken(idToken)).email, 'bob@example.com')
})

test('minting refuses users the issuer does not know', async () => {
  const issuer: CognitoTokenIssuer = await createTokenIssuer()
  assert.throws(() => issuer.mintAccessToken({}, { username: 'mallory' }), /unknown user "mallory"/)
  const empty = await createTokenIssuer({ users: [] })
  assert.throws(() => empty.mintIdToken(), /has no users/)
})

test('mintMachineToken: the client_credentials claim shape, signed with the issuer\'s access-token key', async () => {
  const issuer = await createTokenIssuer({ tokenValiditySeconds: 300 })
  const token = issuer.mintMachineToken({ scopes: ['orders/read'] })
  const claims = decodePart(token, 1)
  assert.deepEqual(Object.keys(claims), ['sub', 'token_use', 'scope', 'auth_time', 'iss', 'exp', 'iat', 'version', 'jti', 'client_id'])
  assert.deepEqual([claims.sub, claims.client_id, claims.scope, claims.iss], [issuer.clientId, issuer.clientId, 'orders/read', issuer.issuer])
  assert.equal(Number(claims.exp) - Number(claims.iat), 300)
  assert.equal('username' in claims || 'cognito:groups' in claims, false)

  const other = decodePart(issuer.mintMachineToken({
    clientId: 'batch-job', scopes: ['a/b', 'c/d'], expiresInSeconds: 60, claims: { jti: undefined, custom: 1 }, header: { kid: 'nope' }
  }), 1)
  assert.deepEqual([other.sub, other.client_id, other.scope, Number(other.exp) - Number(other.iat)], ['batch-job', 'batch-job', 'a/b c/d', 60])
  assert.deepEqual(['jti' in other, other.custom], [false, 1])

  // Verified with jose rather than through the plugin: its verifier requires `username`, which machine tokens lack.
  const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.jwks), { issuer: issuer.issuer })
  assert.equal(payload.sub, issuer.clientId)
  assert.equal(decodePart(token, 0).kid, decodePart(issuer.mintAccessToken(), 0).kid)
})
