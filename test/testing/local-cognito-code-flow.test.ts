import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, PUBLIC_CLIENT, decodePart, login, pkcePair, signIn, token
} from './local-cognito-helpers.js'

let cognito: LocalCognito
let jwks: JWTVerifyGetKey

before(async () => {
  cognito = await startLocalCognito({
    resourceServers: [{ identifier: 'orders', scopes: ['read', 'write'] }],
    users: [
      {
        username: 'alice',
        password: 'alice-password-1',
        email: 'alice@example.com',
        groups: ['admin', 'staff'],
        name: 'Alice Liddell',
        phoneNumber: '+15550100',
        attributes: { 'custom:tenant': 'acme' }
      },
      { username: 'bob', password: 'bob-password-1', email: 'bob@example.com' }
    ],
    clients: [
      { clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK] },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, callbackUrls: [CALLBACK] },
      { clientId: 'no-revocation-client', callbackUrls: [CALLBACK], enableTokenRevocation: false }
    ]
  })
  jwks = createRemoteJWKSet(new URL(cognito.jwksUri))
})

after(async () => { await cognito.close() })

const ACCESS_CLAIMS = [
  'sub', 'cognito:groups', 'iss', 'version', 'client_id', 'origin_jti', 'event_id', 'token_use', 'scope', 'auth_time',
  'exp', 'iat', 'jti', 'username'
]

function atHash (accessToken: string): string {
  return createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url')
}

test('public client: code flow with PKCE gives Cognito-shaped tokens that verify against the JWKS', async () => {
  const counters = { ...cognito.requests }
  const { verifier, challenge } = pkcePair()
  const signedIn = await signIn(cognito, {
    scope: 'openid email profile orders/read', state: 'st-1', nonce: 'n-1', challenge, method: 'S256'
  })
  assert.equal(`${signedIn.callback.origin}${signedIn.callback.pathname}`, CALLBACK)
  assert.deepEqual([...signedIn.callback.searchParams.keys()], ['code', 'state'], 'no iss parameter')
  assert.equal(signedIn.state, 'st-1')

  const answer = await token(cognito, {
    grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code: signedIn.code, redirect_uri: CALLBACK, code_verifier: verifier
  })
  assert.equal(answer.status, 200)
  assert.equal(answer.headers.get('access-control-allow-origin'), '*')
  assert.equal(answer.headers.get('cache-control'), 'no-store')
  assert.deepEqual(Object.keys(answer.body), ['id_token', 'access_token', 'refresh_token', 'expires_in', 'token_type'])
  assert.equal(answer.body.token_type, 'Bearer')
  assert.equal(answer.body.expires_in, 3600)

  const alice = cognito.users[0]
  assert.ok(alice !== undefined)
  const access = await jwtVerify(String(answer.body.access_token), jwks, { issuer: cognito.issuer, algorithms: ['RS256'] })
  assert.deepEqual(Object.keys(access.protectedHeader), ['kid', 'alg'])
  assert.deepEqual(Object.keys(access.payload), ACCESS_CLAIMS)
  const at = access.payload
  assert.equal(at.sub, alice.sub)
  assert.deepEqual(at['cognito:groups'], ['admin', 'staff'])
  assert.equal(at.version, 2)
  assert.equal(at.client_id, PUBLIC_CLIENT)
  assert.equal(at.token_use, 'access')
  assert.equal(at.scope, 'openid email profile orders/read')
  assert.equal(at.username, 'alice')
  assert.equal(at.aud, undefined)
  assert.equal(Number(at.exp) - Number(at.iat), 3600)
  assert.ok(Number(at.auth_time) <= Number(at.iat))
  for (const claim of ['origin_jti', 'event_id', 'jti']) assert.match(String(at[claim]), /^[0-9a-f-]{36}$/)

  const idToken = String(answer.body.id_token)
  const id = await jwtVerify(idToken, jwks, { issuer: cognito.issuer, audience: PUBLIC_CLIENT, algorithms: ['RS256'] })
  assert.deepEqual(Object.keys(id.protectedHeader), ['kid', 'alg'])
  assert.notEqual(id.protectedHeader.kid, access.protectedHeader.kid)
  assert.deepEqual(id.payload, {
    at_hash: atHash(String(answer.body.access_token)),
    sub: alice.sub,
    'cognito:groups': ['admin', 'staff'],
    email_verified: true,
    iss: cognito.issuer,
    'cognito:username': 'alice',
    nonce: 'n-1',
    origin_jti: at.origin_jti,
    aud: PUBLIC_CLIENT,
    event_id: at.event_id,
    token_use: 'id',
    auth_time: at.auth_time,
    'custom:tenant': 'acme',
    name: 'Alice Liddell',
    phone_number: '+15550100',
    phone_number_verified: true,
    exp: Number(at.iat) + 3600,
    iat: at.iat,
    jti: id.payload.jti,
    email: 'alice@example.com'
  })
  assert.notEqual(id.payload.jti, at.jti)

  const refreshToken = String(answer.body.refresh_token)
  const parts = refreshToken.split('.')
  assert.equal(parts.length, 5)
  assert.deepEqual(decodePart(refreshToken, 0), { cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' })
  assert.ok(refreshToken.length >= 1750 && refreshToken.length <= 1800, `refresh token length ${refreshToken.length}`)

  assert.equal(cognito.requests.authorize - counters.authorize, 1)
  assert.equal(cognito.requests.login - counters.login, 1)
  assert.equal(cognito.requests.token - counters.token, 1)
  assert.equal(cognito.requests.tokenAuthorizationCode - counters.tokenAuthorizationCode, 1)
})

test('a user without groups gets no cognito:groups claim at all', async () => {
  const tokens = await login(cognito, { username: 'bob', scope: 'openid email' })
  const access = await jwtVerify(tokens.access_token, jwks)
  const id = await jwtVerify(tokens.id_token ?? '', jwks)
  assert.equal('cognito:groups' in access.payload, false)
  assert.equal('cognito:groups' in id.payload, false)
  assert.equal(id.payload.email, 'bob@example.com')
  assert.equal('nonce' in id.payload, false, 'no nonce unless one was sent')
})

test('confidential client authenticates with HTTP Basic or with client_secret in the body', async () => {
  for (const style of ['basic', 'body'] as const) {
    const { verifier, challenge } = pkcePair()
    const { code } = await signIn(cognito, { clientId: CONFIDENTIAL_CLIENT, scope: 'openid', challenge, method: 'S256' })
    const fields = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }
    const answer = style === 'basic'
      ? await token(cognito, fields, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] })
      : await token(cognito, { ...fields, client_id: CONFIDENTIAL_CLIENT, client_secret: CONFIDENTIAL_SECRET })
    assert.equal(answer.status, 200, `${style}: ${answer.text}`)
    const access = await jwtVerify(String(answer.body.access_token), jwks, { issuer: cognito.issuer })
    assert.equal(access.payload.client_id, CONFIDENTIAL_CLIENT)
    await jwtVerify(String(answer.body.id_token), jwks, { issuer: cognito.issuer, audience: CONFIDENTIAL_CLIENT })
  }
})

test('without openid there is no ID token, email/phone/profile are dropped and the nonce is ignored', async () => {
  const tokens = await login(cognito, { scope: 'email orders/write unknown-scope', nonce: 'ignored' })
  assert.equal('id_token' in tokens, false)
  assert.equal((await jwtVerify(tokens.access_token, jwks)).payload.scope, 'orders/write')
  assert.equal(cognito.lastAuthorizeQuery?.nonce, 'ignored', 'the query is recorded as sent')
})

test('no scope parameter grants every scope the client allows, resource-server scopes included', async () => {
  const tokens = await login(cognito)
  assert.equal(
    (await jwtVerify(tokens.access_token, jwks)).payload.scope,
    'openid email phone profile aws.cognito.signin.user.admin orders/read orders/write'
  )
  assert.equal('scope' in tokens, false)
})

test('a client with token revocation disabled gets tokens without jti and origin_jti', async () => {
  const tokens = await login(cognito, { clientId: 'no-revocation-client', scope: 'openid' })
  for (const jwt of [tokens.access_token, tokens.id_token ?? '']) {
    const { payload } = await jwtVerify(jwt, jwks)
    assert.equal('jti' in payload, false)
    assert.equal('origin_jti' in payload, false)
    assert.match(String(payload.event_id), /^[0-9a-f-]{36}$/)
  }
})

test('sign-in matches the username case-insensitively and the claims carry the registered name', async () => {
  const tokens = await login(cognito, { username: 'ALICE', password: 'alice-password-1', scope: 'openid' })
  assert.equal((await jwtVerify(tokens.access_token, jwks)).payload.username, 'alice')
  assert.equal((await jwtVerify(tokens.id_token ?? '', jwks)).payload['cognito:username'], 'alice')
})
