import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, PUBLIC_CLIENT, login, pkcePair, revoke, signIn, token, userInfo
} from './local-cognito-helpers.js'

const INVALID_TOKEN = 'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."'
let cognito: LocalCognito

before(async () => {
  cognito = await startLocalCognito({
    clients: [
      { clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK] },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, callbackUrls: [CALLBACK] },
      { clientId: 'no-revocation-client', callbackUrls: [CALLBACK], enableTokenRevocation: false }
    ]
  })
})
after(async () => { await cognito.close() })

async function refresh (refreshToken: string): ReturnType<typeof token> {
  return token(cognito, { grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: refreshToken })
}

test('revoking a refresh token kills it and every access token issued from it, and nothing else', async () => {
  const tokens = await login(cognito)
  const other = await login(cognito, { username: 'bob' })
  const refreshed = await refresh(tokens.refresh_token)
  const secondAccess = String(refreshed.body.access_token)
  const before = cognito.requests.revoke

  const answer = await revoke(cognito, { token: tokens.refresh_token, client_id: PUBLIC_CLIENT })
  assert.equal(answer.status, 200)
  assert.equal(answer.text, '')
  assert.equal(cognito.requests.revoke, before + 1)

  assert.deepEqual((await refresh(tokens.refresh_token)).body, { error: 'invalid_grant' })
  for (const accessToken of [tokens.access_token, secondAccess]) {
    const refused = await userInfo(cognito, `Bearer ${accessToken}`)
    assert.equal(refused.status, 401)
    assert.equal(refused.headers.get('www-authenticate'), INVALID_TOKEN)
  }
  // As with Cognito, a JWT verified locally stays valid until it expires.
  await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(cognito.jwksUri)), { issuer: cognito.issuer })

  assert.equal((await refresh(other.refresh_token)).status, 200)
  assert.equal((await userInfo(cognito, `Bearer ${other.access_token}`)).status, 200)

  const twice = await revoke(cognito, { token: tokens.refresh_token, client_id: PUBLIC_CLIENT })
  assert.deepEqual([twice.status, twice.text], [200, ''])
})

test('confidential clients revoke with HTTP Basic; bad credentials are 401 invalid_client', async () => {
  const { verifier, challenge } = pkcePair()
  const { code } = await signIn(cognito, { clientId: CONFIDENTIAL_CLIENT, challenge, method: 'S256' })
  const issued = await token(cognito, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }, {
    basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET]
  })
  const refreshToken = String(issued.body.refresh_token)

  const wrong = await revoke(cognito, { token: refreshToken }, { basic: [CONFIDENTIAL_CLIENT, 'wrong'] })
  assert.deepEqual([wrong.status, wrong.body], [401, { error: 'invalid_client' }])
  const unknown = await revoke(cognito, { token: refreshToken, client_id: 'unknown-client' })
  assert.deepEqual([unknown.status, unknown.body], [401, { error: 'invalid_client' }])

  const foreign = await revoke(cognito, { token: refreshToken, client_id: PUBLIC_CLIENT })
  assert.equal(foreign.status, 200, 'answered like an unknown token')
  const stillAlive = await token(cognito, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] })
  assert.equal(stillAlive.status, 200, 'another client cannot revoke it')

  assert.equal((await revoke(cognito, { token: refreshToken }, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] })).status, 200)
  const dead = await token(cognito, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] })
  assert.deepEqual(dead.body, { error: 'invalid_grant' })
})

test('revoke answers: JWTs are unsupported_token_type, unknown tokens 200, a missing token or disabled revocation invalid_request', async () => {
  const tokens = await login(cognito, { scope: 'openid' })
  const access = await revoke(cognito, { token: tokens.access_token, client_id: PUBLIC_CLIENT })
  assert.deepEqual([access.status, access.body], [400, { error: 'unsupported_token_type' }])
  const id = await revoke(cognito, { token: tokens.id_token ?? '', client_id: PUBLIC_CLIENT })
  assert.deepEqual([id.status, id.body], [400, { error: 'unsupported_token_type' }])
  const unknown = await revoke(cognito, { token: 'a.b.c.d.e', client_id: PUBLIC_CLIENT })
  assert.deepEqual([unknown.status, unknown.text], [200, ''])
  const missing = await revoke(cognito, { client_id: PUBLIC_CLIENT })
  assert.deepEqual([missing.status, missing.body], [400, { error: 'invalid_request' }])

  const disabled = await login(cognito, { clientId: 'no-revocation-client' })
  const refused = await revoke(cognito, { token: disabled.refresh_token, client_id: 'no-revocation-client' })
  assert.deepEqual([refused.status, refused.body], [400, { error: 'invalid_request' }])
  assert.equal((await userInfo(cognito, `Bearer ${disabled.access_token}`)).status, 200)
})

test('revokeAllSessions signs everyone out: refresh tokens die, userInfo refuses issued and minted tokens', async (t) => {
  const separate = await startLocalCognito()
  t.after(async () => { await separate.close() })
  const alice = await login(separate)
  const bob = await login(separate, { username: 'bob' })
  const minted = await separate.mintAccessToken('alice', PUBLIC_CLIENT)

  separate.revokeAllSessions()
  for (const tokens of [alice, bob]) {
    const answer = await token(separate, { grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: tokens.refresh_token })
    assert.deepEqual(answer.body, { error: 'invalid_grant' })
    assert.equal((await userInfo(separate, `Bearer ${tokens.access_token}`)).status, 401)
  }
  assert.equal((await userInfo(separate, `Bearer ${minted}`)).status, 401)

  const fresh = await login(separate)
  assert.equal((await userInfo(separate, `Bearer ${fresh.access_token}`)).status, 200, 'signing in again works')
})

test('after revocation or revokeAllSessions userInfo answers 401 with Cognito\'s exact WWW-Authenticate value', async (t) => {
  const separate = await startLocalCognito()
  t.after(async () => { await separate.close() })
  const assertRefused = async (accessToken: string, message: string): Promise<void> => {
    const answer = await userInfo(separate, `Bearer ${accessToken}`)
    assert.equal(answer.status, 401, message)
    assert.equal(answer.headers.get('www-authenticate'), INVALID_TOKEN, message)
    assert.deepEqual(answer.body, {
      error: 'invalid_token',
      error_description: 'Access token is expired, disabled, or deleted, or the user has globally signed out.'
    }, message)
  }
  const revoked = await login(separate)
  assert.equal((await revoke(separate, { token: revoked.refresh_token, client_id: PUBLIC_CLIENT })).status, 200)
  await assertRefused(revoked.access_token, 'after /oauth2/revoke')

  const signedOut = await login(separate)
  const minted = await separate.mintAccessToken('bob', PUBLIC_CLIENT)
  separate.revokeAllSessions()
  await assertRefused(signedOut.access_token, 'after revokeAllSessions')
  await assertRefused(minted, 'a minted token after revokeAllSessions')
})
