import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito, { CognitoInvalidOptionError } from '../../lib/index.js'
import { apiApp, bearer, MOBILE, OTHER, startApiIdp, WEB } from './helpers.js'

test('several app clients: tokens of every listed client pass, of another are refused; clientIds narrows a guard', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, { userPoolId: idp.userPoolId, clientId: [WEB, MOBILE], issuer: idp.issuer }, (app) => {
    app.get('/mobile', { preHandler: app.cognito.requireAuth({ clientIds: [MOBILE] }) }, async (request) => ({ clientId: request.user?.clientId }))
  })
  for (const client of [WEB, MOBILE]) {
    const me = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', client)) })
    assert.equal(me.statusCode, 200, client)
    assert.equal(me.json().user.clientId, client)
  }
  const other = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', OTHER)) })
  assert.equal(other.statusCode, 401)
  assert.equal(other.json().code, 'FST_COGNITO_INVALID_TOKEN')
  assert.equal(await app.cognito.verifyAccessToken(await idp.mintAccessToken('bob', MOBILE)).then((claims) => claims.client_id), MOBILE)

  const fromWeb = await app.inject({ url: '/mobile', headers: bearer(await idp.mintAccessToken('alice', WEB)) })
  assert.equal(fromWeb.statusCode, 403)
  assert.equal(fromWeb.json().code, 'FST_COGNITO_FORBIDDEN')
  const fromMobile = await app.inject({ url: '/mobile', headers: bearer(await idp.mintAccessToken('alice', MOBILE)) })
  assert.deepEqual([fromMobile.statusCode, fromMobile.json()], [200, { clientId: MOBILE }])

  assert.throws(() => app.cognito.requireAuth({ clientIds: [OTHER] }), (error: unknown) => {
    assert.ok(error instanceof CognitoInvalidOptionError)
    assert.match(error.message, /"clientIds" names "other-client", which the registration does not accept/)
    return true
  })
})

test('with browser sign-in, the first client is the one users sign in with', async (t) => {
  const idp = await startApiIdp(t)
  const app = await apiApp(t, {
    userPoolId: idp.userPoolId,
    clientId: [WEB, MOBILE],
    issuer: idp.issuer,
    domain: idp.domain,
    redirectUri: 'http://localhost:3000/login/redirect',
    sessionSecret: 'a-session-secret-of-at-least-32-characters'
  })
  const login = await app.inject({ url: '/login' })
  assert.equal(new URL(login.headers.location as string).searchParams.get('client_id'), WEB)
})

test('several user pools: each token finds its pool by iss; a forged iss causes no JWKS fetch at all', async (t) => {
  const first = await startApiIdp(t, { userPoolId: 'eu-west-1_FirstPool' })
  const second = await startApiIdp(t, { userPoolId: 'us-east-1_SecondPool', region: 'us-east-1' })
  await second.rotateKeys() // the pools must not share keys for the cross-pool check below to mean anything
  const app = await apiApp(t, {
    userPools: [
      { userPoolId: first.userPoolId, clientId: WEB, issuer: first.issuer },
      { userPoolId: second.userPoolId, clientId: [MOBILE], issuer: second.issuer }
    ]
  })
  const one = await app.inject({ url: '/me', headers: bearer(await first.mintAccessToken('alice', WEB)) })
  assert.deepEqual([one.statusCode, one.json().user.userPoolId], [200, first.userPoolId])
  const two = await app.inject({ url: '/me', headers: bearer(await second.mintAccessToken('bob', MOBILE)) })
  assert.deepEqual([two.statusCode, two.json().user.userPoolId], [200, second.userPoolId])
  // Clients belong to their pool: the first pool's MOBILE client is not accepted there.
  assert.equal((await app.inject({ url: '/me', headers: bearer(await first.mintAccessToken('alice', MOBILE)) })).statusCode, 401)

  const fetches = first.requests.jwks + second.requests.jwks
  const forged = await first.mintAccessToken('alice', WEB, { claims: { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Unknown' }, header: { kid: 'never-seen-kid' } })
  const refused = await app.inject({ url: '/me', headers: bearer(forged) })
  assert.equal(refused.statusCode, 401)
  assert.match(refused.json().message, /issuer is not a user pool of this app/)
  assert.equal(first.requests.jwks + second.requests.jwks, fetches, 'no JWKS fetch for an unknown issuer')

  // A token signed by the first pool's key but naming the second pool is checked with the second pool's keys.
  const crossed = await first.mintAccessToken('bob', MOBILE, { claims: { iss: second.issuer } })
  assert.equal((await app.inject({ url: '/me', headers: bearer(crossed) })).statusCode, 401)
})

test('userPools options: not mixed with the top-level pool options; each entry is validated by its path', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ userPools: [], userPoolId: undefined }, /"userPools" must be a non-empty array/],
    [{ userPools: [{ userPoolId: 'eu-west-1_A', clientId: WEB }], userPoolId: 'eu-west-1_B', clientId: WEB }, /option "userPoolId" goes inside each "userPools" entry/],
    [{ userPools: [{ userPoolId: 'nope', clientId: WEB }] }, /option "userPools\[0\]\.userPoolId" must look like/],
    [{ userPools: [{ userPoolId: 'eu-west-1_A', clientId: [] }] }, /option "userPools\[0\]\.clientId" must be a client id or a non-empty array/],
    [{ userPools: [{ userPoolId: 'eu-west-1_A', clientId: WEB }, { userPoolId: 'eu-west-1_A', clientId: MOBILE }] }, /names the same user pool \(issuer\) twice/],
    [{ userPoolId: 'eu-west-1_A', clientId: [] }, /option "clientId" must be a client id or a non-empty array/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    t.after(async () => { await app.close() })
    await assert.rejects(async () => { await app.register(fastifyCognito, options as never) }, (error: unknown) => {
      assert.ok(error instanceof CognitoInvalidOptionError, String(error))
      assert.match(error.message, message)
      return true
    })
  }
})
