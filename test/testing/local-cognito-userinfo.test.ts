import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import { CALLBACK, PUBLIC_CLIENT, login, userInfo } from './local-cognito-helpers.js'

const BAD_REQUEST = 'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"'
const INVALID_TOKEN = 'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."'
let cognito: LocalCognito
let carolSub: string

before(async () => {
  cognito = await startLocalCognito({
    users: [{
      username: 'carol',
      password: 'carol-password-1',
      email: 'carol@example.com',
      emailVerified: false,
      phoneNumber: '+15550199',
      name: 'Carol Danvers',
      attributes: { 'custom:tenant': 'acme', locale: 'en-GB' }
    }],
    clients: [{ clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK] }]
  })
  carolSub = cognito.users[0]?.sub ?? ''
})
after(async () => { await cognito.close() })

async function infoFor (scope: string): Promise<Record<string, unknown>> {
  const tokens = await login(cognito, { username: 'carol', password: 'carol-password-1', scope })
  const answer = await userInfo(cognito, `Bearer ${tokens.access_token}`)
  assert.equal(answer.status, 200)
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
  return answer.body
}

test('openid alone releases every attribute, verified flags as strings', async () => {
  const before = cognito.requests.userInfo
  assert.deepEqual(await infoFor('openid'), {
    sub: carolSub,
    'custom:tenant': 'acme',
    locale: 'en-GB',
    name: 'Carol Danvers',
    phone_number: '+15550199',
    phone_number_verified: 'true',
    email: 'carol@example.com',
    email_verified: 'false',
    username: 'carol'
  })
  assert.equal(cognito.requests.userInfo, before + 1)
})

test('email, phone and profile narrow the answer to their attributes', async () => {
  assert.deepEqual(await infoFor('openid email'), { sub: carolSub, email: 'carol@example.com', email_verified: 'false', username: 'carol' })
  assert.deepEqual(await infoFor('openid phone'), { sub: carolSub, phone_number: '+15550199', phone_number_verified: 'true', username: 'carol' })
  assert.deepEqual(await infoFor('openid profile aws.cognito.signin.user.admin'), {
    sub: carolSub, 'custom:tenant': 'acme', locale: 'en-GB', name: 'Carol Danvers', username: 'carol'
  })
})

test('errors carry Cognito\'s WWW-Authenticate values', async () => {
  for (const authorization of [undefined, 'Basic abc', 'Bearer', 'bearer  ']) {
    const answer = await userInfo(cognito, authorization)
    assert.equal(answer.status, 400, String(authorization))
    assert.equal(answer.headers.get('www-authenticate'), BAD_REQUEST)
  }
  const tokens = await login(cognito, { username: 'carol', password: 'carol-password-1', scope: 'openid' })
  const withoutOpenid = await login(cognito, { username: 'carol', password: 'carol-password-1', scope: 'aws.cognito.signin.user.admin' })
  const [header, payload] = tokens.access_token.split('.')
  const forged = `${header ?? ''}.${Buffer.from(JSON.stringify({ sub: carolSub, token_use: 'access', scope: 'openid' })).toString('base64url')}.${tokens.access_token.split('.')[2] ?? ''}`
  const expired = await cognito.mintAccessToken('carol', PUBLIC_CLIENT, { expiresInSeconds: -5 })
  for (const bearer of ['garbage', `${header ?? ''}.${payload ?? ''}.AAAA`, forged, tokens.id_token ?? '', withoutOpenid.access_token, expired]) {
    const answer = await userInfo(cognito, `Bearer ${bearer}`)
    assert.equal(answer.status, 401)
    assert.equal(answer.headers.get('www-authenticate'), INVALID_TOKEN)
    assert.equal(answer.body.error, 'invalid_token')
  }
})
