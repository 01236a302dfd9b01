import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CognitoInvalidOptionError } from '../../lib/index.js'
import { createTokenIssuer } from '../../lib/testing/index.js'
import { apiApp, bearer, MACHINE, MACHINE_SECRET, startApiIdp, WEB } from './helpers.js'

// Cognito's client-credentials tokens: `sub` is the client id, no username, no groups, custom scopes only.

test('a real client-credentials token from the local Cognito through guards: scopes pass, groups 403, isMachine', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: [WEB, MACHINE], issuer: idp.issuer }, (app) => {
    app.get('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async (request) => ({ user: request.user }))
    app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async () => ({ ok: true }))
    app.get('/machines-only', { preHandler: app.cognito.requireAuth({ clientIds: [MACHINE], check: (user) => user.isMachine }) }, async () => ({ ok: true }))
  })
  const source = app.cognito.clientCredentials({ clientId: MACHINE, clientSecret: MACHINE_SECRET, scopes: ['orders/read'], domain: idp.domain })
  const token = await source.getAccessToken()

  const orders = await app.inject({ url: '/orders', headers: bearer(token) })
  assert.equal(orders.statusCode, 200)
  const { user } = orders.json()
  assert.equal(user.isMachine, true)
  assert.equal(user.sub, MACHINE)
  assert.equal(user.clientId, MACHINE)
  assert.equal(user.username, undefined)
  assert.deepEqual(user.groups, [])
  assert.deepEqual(user.scopes, ['orders/read'])

  const admin = await app.inject({ url: '/admin', headers: bearer(token) })
  assert.equal(admin.statusCode, 403)
  assert.equal(admin.json().code, 'FST_COGNITO_FORBIDDEN')
  assert.equal((await app.inject({ url: '/machines-only', headers: bearer(token) })).statusCode, 200)
  assert.equal((await app.inject({ url: '/machines-only', headers: bearer(await idp.mintAccessToken('alice', WEB)) })).statusCode, 403)
  // Users' tokens say they are not machines.
  assert.equal((await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', WEB)) })).json().user.isMachine, false)
})

test('a token without username that is not a machine token (sub differs from client_id) is refused', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer })
  const malformed = await idp.mintAccessToken('alice', WEB, { claims: { username: undefined } })
  const refused = await app.inject({ url: '/me', headers: bearer(malformed) })
  assert.equal(refused.statusCode, 401)
  assert.match(refused.json().message, /no username/)
})

test('the token issuer mints machine tokens a bearer-only registration accepts without any network', async (t) => {
  const issuer = await createTokenIssuer({ clientId: 'batch-job' })
  const app = await apiApp(t, { userPoolId: issuer.userPoolId, clientId: 'batch-job', issuer: issuer.issuer, jwks: issuer.jwks }, (app) => {
    app.get('/reports', { preHandler: app.cognito.requireAuth({ scopes: ['reports/read'] }) }, async (request) => ({ machine: request.user?.isMachine }))
  })
  const token = issuer.mintMachineToken({ scopes: ['reports/read'] })
  assert.deepEqual((await app.inject({ url: '/reports', headers: bearer(token) })).json(), { machine: true })
})

test('clientCredentials(): one token call for 100 concurrent callers, the same source for the same options, domain required when bearer-only', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: WEB, issuer: idp.issuer })
  const options = { clientId: MACHINE, clientSecret: MACHINE_SECRET, scopes: ['orders/read'], domain: idp.domain }
  const tokens = await Promise.all(Array.from({ length: 100 }, async () => await app.cognito.clientCredentials(options).getAccessToken()))
  assert.equal(new Set(tokens).size, 1)
  assert.equal(idp.requests.tokenClientCredentials, 1)
  assert.equal(app.cognito.clientCredentials({ ...options }), app.cognito.clientCredentials(options), 'one cache per options')

  assert.throws(() => app.cognito.clientCredentials({ clientId: MACHINE, clientSecret: MACHINE_SECRET }), (error: unknown) => {
    assert.ok(error instanceof CognitoInvalidOptionError)
    assert.match(error.message, /clientCredentials option "domain"/)
    assert.equal(error.message.includes(MACHINE_SECRET), false)
    return true
  })
  const wrong = app.cognito.clientCredentials({ ...options, clientSecret: 'not-the-secret-at-all' })
  await assert.rejects(wrong.getAccessToken(), { code: 'FST_COGNITO_INVALID_CLIENT' })
})
