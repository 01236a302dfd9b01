import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { startLocalCognito, type LocalCognito, type LocalCognitoClient } from '../../lib/testing/index.js'
import {
  CALLBACK, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, PUBLIC_CLIENT, authorizeUrl, decodePart, get, locationOf, token, userInfo
} from './local-cognito-helpers.js'

const MACHINE = 'machine-client'
const MACHINE_SECRET = 'machine-client-secret'
const NARROW = 'narrow-machine-client'
const RESOURCE_SERVERS = [{ identifier: 'orders', scopes: ['read', 'write'] }, { identifier: 'https://api.example.com', scopes: ['admin'] }]
const MACHINE_CLAIMS = ['sub', 'token_use', 'scope', 'auth_time', 'iss', 'exp', 'iat', 'version', 'jti', 'client_id']
let cognito: LocalCognito

before(async () => {
  cognito = await startLocalCognito({
    resourceServers: RESOURCE_SERVERS,
    clients: [
      { clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK] },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, callbackUrls: [CALLBACK] },
      { clientId: MACHINE, clientSecret: MACHINE_SECRET, callbackUrls: [CALLBACK], allowedOAuthFlows: ['client_credentials'], accessTokenValiditySeconds: 900 },
      { clientId: NARROW, clientSecret: MACHINE_SECRET, callbackUrls: [], allowedOAuthFlows: ['client_credentials'], allowedScopes: ['orders/read'] }
    ]
  })
})
after(async () => { await cognito.close() })

function assertError (answer: { status: number, body: Record<string, unknown> }, error: string, message?: string): void {
  assert.deepEqual([answer.status, answer.body], [400, { error }], message)
}

test('client_credentials with Basic auth: an access token only, shaped like Cognito\'s machine tokens', async () => {
  const before = { all: cognito.requests.token, machine: cognito.requests.tokenClientCredentials }
  const answer = await token(cognito, { grant_type: 'client_credentials', scope: 'orders/read' }, { basic: [MACHINE, MACHINE_SECRET] })
  assert.equal(answer.status, 200, answer.text)
  assert.deepEqual(Object.keys(answer.body), ['access_token', 'expires_in', 'token_type'])
  assert.deepEqual([answer.body.expires_in, answer.body.token_type], [900, 'Bearer'])
  assert.equal(answer.headers.get('cache-control'), 'no-store')
  assert.deepEqual([cognito.requests.token, cognito.requests.tokenClientCredentials], [before.all + 1, before.machine + 1])

  const accessToken = String(answer.body.access_token)
  const { payload, protectedHeader } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(cognito.jwksUri)), { issuer: cognito.issuer })
  assert.deepEqual(Object.keys(payload), MACHINE_CLAIMS)
  assert.equal(payload.sub, MACHINE)
  assert.equal(payload.client_id, MACHINE)
  assert.equal(payload.token_use, 'access')
  assert.equal(payload.scope, 'orders/read')
  assert.equal(payload.version, 2)
  assert.equal(payload.auth_time, payload.iat)
  assert.equal(Number(payload.exp) - Number(payload.iat), 900)
  assert.match(String(payload.jti), /^[0-9a-f-]{36}$/)
  assert.equal(protectedHeader.kid, decodePart(await cognito.mintAccessToken('alice', PUBLIC_CLIENT), 0).kid, 'signed with the access-token key')

  const info = await userInfo(cognito, `Bearer ${accessToken}`)
  assert.equal(info.status, 401, 'no user behind a machine token')
})

test('no scope means every allowed custom scope; body authentication works too; several scopes are space-separated', async () => {
  const all = await token(cognito, { grant_type: 'client_credentials', client_id: MACHINE, client_secret: MACHINE_SECRET })
  assert.equal(all.status, 200)
  assert.equal(decodePart(String(all.body.access_token), 1).scope, 'orders/read orders/write https://api.example.com/admin')
  const two = await token(cognito, { grant_type: 'client_credentials', scope: 'https://api.example.com/admin orders/write' }, { basic: [MACHINE, MACHINE_SECRET] })
  assert.equal(decodePart(String(two.body.access_token), 1).scope, 'https://api.example.com/admin orders/write')
  const narrow = await token(cognito, { grant_type: 'client_credentials' }, { basic: [NARROW, MACHINE_SECRET] })
  assert.equal(decodePart(String(narrow.body.access_token), 1).scope, 'orders/read')
})

test('errors: invalid_client, unauthorized_client and invalid_scope as Cognito answers them', async () => {
  const grant = { grant_type: 'client_credentials' }
  assertError(await token(cognito, grant, { basic: [MACHINE, 'wrong'] }), 'invalid_client')
  assertError(await token(cognito, { ...grant, client_id: MACHINE }), 'invalid_client', 'no secret')
  assertError(await token(cognito, grant), 'invalid_client', 'no client at all')
  assertError(await token(cognito, grant, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] }), 'unauthorized_client', 'a code-grant client')
  assertError(await token(cognito, { ...grant, client_id: PUBLIC_CLIENT }), 'unauthorized_client', 'a public client')
  for (const scope of ['openid', 'orders/read openid', 'orders/delete', 'nope', 'aws.cognito.signin.user.admin']) {
    assertError(await token(cognito, { ...grant, scope }, { basic: [MACHINE, MACHINE_SECRET] }), 'invalid_scope', scope)
  }
  assertError(await token(cognito, { ...grant, scope: 'orders/write' }, { basic: [NARROW, MACHINE_SECRET] }), 'invalid_scope', 'not allowed to this client')
})

test('a machine client never signs users in: authorize and the user grants are unauthorized_client', async () => {
  const refused = locationOf(await get(authorizeUrl(cognito, { clientId: MACHINE, state: 'm' })))
  assert.deepEqual([refused.searchParams.get('error'), refused.searchParams.get('state')], ['unauthorized_client', 'm'])
  const basic: [string, string] = [MACHINE, MACHINE_SECRET]
  assertError(await token(cognito, { grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK }, { basic }), 'unauthorized_client')
  assertError(await token(cognito, { grant_type: 'refresh_token', refresh_token: 'x' }, { basic }), 'unauthorized_client')
})

test('mintMachineToken signs the same shape, with the client\'s custom scopes by default', async () => {
  const minted = decodePart(await cognito.mintMachineToken(MACHINE), 1)
  assert.deepEqual(Object.keys(minted), MACHINE_CLAIMS)
  assert.deepEqual([minted.sub, minted.client_id, minted.scope], [MACHINE, MACHINE, 'orders/read orders/write https://api.example.com/admin'])
  const custom = decodePart(await cognito.mintMachineToken('other', { scopes: ['orders/read'], expiresInSeconds: -1, claims: { version: undefined } }), 1)
  assert.deepEqual([custom.sub, custom.scope, Number(custom.exp) - Number(custom.iat), 'version' in custom], ['other', 'orders/read', -1, false])
})

test('Cognito\'s client rules are configuration errors at start', async () => {
  const machine: LocalCognitoClient = { clientId: 'm', clientSecret: 's', callbackUrls: [], allowedOAuthFlows: ['client_credentials'] }
  const resourceServers = RESOURCE_SERVERS
  await assert.rejects(startLocalCognito({ resourceServers, clients: [{ ...machine, allowedOAuthFlows: ['code', 'client_credentials'] }] }),
    /client_credentials cannot be combined with code/)
  const { clientSecret: _secret, ...publicMachine } = machine
  await assert.rejects(startLocalCognito({ resourceServers, clients: [publicMachine] }), /client_credentials needs a clientSecret/)
  await assert.rejects(startLocalCognito({ clients: [machine] }), /needs at least one resource-server scope/)
  await assert.rejects(startLocalCognito({ resourceServers, clients: [{ ...machine, allowedScopes: ['openid', 'orders/read'] }] }),
    /may only have resource-server scopes, not openid/)
  await assert.rejects(startLocalCognito({ resourceServers, clients: [{ ...machine, allowedScopes: ['orders/delete'] }] }), /not orders\/delete/)
  await assert.rejects(startLocalCognito({ clients: [{ ...machine, allowedOAuthFlows: [] }] }), /allowedOAuthFlows of m/)
  // @ts-expect-error JavaScript callers can pass anything.
  await assert.rejects(startLocalCognito({ clients: [{ ...machine, allowedOAuthFlows: ['implicit'] }] }), /allowedOAuthFlows of m/)
})
