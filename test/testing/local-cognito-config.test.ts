import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startLocalCognito, type LocalCognitoClient, type LocalCognitoUser } from '../../lib/testing/index.js'
import { startCognito } from './local-cognito-helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('defaults: alice and bob, a public and a confidential client, all settings filled in', async (t) => {
  const cognito = await startCognito(t)
  const [alice, bob] = cognito.users
  assert.ok(alice !== undefined && bob !== undefined)
  assert.match(alice.sub ?? '', UUID)
  assert.match(bob.sub ?? '', UUID)
  assert.notEqual(alice.sub, bob.sub)
  assert.deepEqual({ ...alice, sub: 'x' }, {
    username: 'alice', password: 'alice-password-1', email: 'alice@example.com', emailVerified: true, groups: ['admin'], sub: 'x'
  })
  assert.deepEqual({ ...bob, sub: 'x' }, { username: 'bob', password: 'bob-password-1', email: 'bob@example.com', emailVerified: true, sub: 'x' })

  const common = {
    callbackUrls: ['http://localhost:3000/login/redirect'],
    logoutUrls: ['http://localhost:3000/'],
    allowedOAuthFlows: ['code'],
    allowedScopes: ['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin'],
    accessTokenValiditySeconds: 3600,
    idTokenValiditySeconds: 3600,
    refreshTokenValiditySeconds: 30 * 24 * 3600,
    refreshTokenRotation: false,
    rotationGracePeriodSeconds: 0,
    enableTokenRevocation: true
  }
  assert.deepEqual(cognito.clients, [
    { clientId: 'local-public-client', ...common },
    { clientId: 'local-confidential-client', clientSecret: 'local-confidential-client-secret', ...common }
  ])
})

test('resource-server scopes join the default allowed scopes; explicit ones are kept as given', async (t) => {
  const cognito = await startCognito(t, {
    resourceServers: [{ identifier: 'https://api.example.com', scopes: ['read'] }],
    clients: [
      { clientId: 'a', callbackUrls: [] },
      { clientId: 'b', callbackUrls: [], allowedScopes: ['openid'] }
    ]
  })
  assert.deepEqual(cognito.clients[0]?.allowedScopes, [
    'openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin', 'https://api.example.com/read'
  ])
  assert.deepEqual(cognito.clients[1]?.allowedScopes, ['openid'])
})

test('invalid configuration is refused at start', async () => {
  const user: LocalCognitoUser = { username: 'u', password: 'p' }
  const client: LocalCognitoClient = { clientId: 'c', callbackUrls: [] }
  await assert.rejects(startLocalCognito({ clients: [{ ...client, rotationGracePeriodSeconds: 61 }] }), /rotationGracePeriodSeconds/)
  await assert.rejects(startLocalCognito({ clients: [{ ...client, accessTokenValiditySeconds: 0 }] }), /must be positive/)
  await assert.rejects(startLocalCognito({ clients: [client, client] }), /duplicate clientId/)
  await assert.rejects(startLocalCognito({ users: [user, { ...user, username: 'U' }] }), /duplicate username/)
  await assert.rejects(startLocalCognito({ users: [{ ...user, attributes: { sub: 'x' } }] }), /reserved attribute sub/)
  await assert.rejects(startLocalCognito({ userPoolId: '../etc' }), /invalid userPoolId/)
})

test('close() stops the server', async () => {
  const cognito = await startLocalCognito()
  await cognito.close()
  await assert.rejects(fetch(cognito.jwksUri))
})
