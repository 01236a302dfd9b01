import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, PUBLIC_CLIENT, decodePart, login, manualClock, startCognito, token, userInfo
} from './local-cognito-helpers.js'

async function pool (t: TestContext): Promise<{ cognito: LocalCognito, advance: (seconds: number) => void }> {
  const clock = manualClock()
  const cognito = await startCognito(t, {
    now: clock.now,
    clients: [
      { clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK], refreshTokenValiditySeconds: 3600 },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, callbackUrls: [CALLBACK] },
      { clientId: 'rotating-client', callbackUrls: [CALLBACK], refreshTokenRotation: true, rotationGracePeriodSeconds: 10 },
      { clientId: 'strict-rotating-client', callbackUrls: [CALLBACK], refreshTokenRotation: true, rotationGracePeriodSeconds: 0 },
      { clientId: 'short-client', callbackUrls: [CALLBACK], accessTokenValiditySeconds: 2, idTokenValiditySeconds: 1 }
    ]
  })
  return { cognito, advance: clock.advance }
}

async function refresh (cognito: LocalCognito, refreshToken: string, clientId = PUBLIC_CLIENT): ReturnType<typeof token> {
  return token(cognito, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken })
}

test('refresh without rotation: new access and ID tokens, no refresh token, same auth_time and origin_jti', async (t) => {
  const { cognito, advance } = await pool(t)
  const first = await login(cognito, { nonce: 'n-1', scope: 'openid email' })
  const original = decodePart(first.access_token, 1)
  advance(600)

  const answer = await refresh(cognito, first.refresh_token)
  assert.equal(answer.status, 200)
  assert.equal(answer.headers.get('cache-control'), 'no-store')
  assert.deepEqual(Object.keys(answer.body), ['id_token', 'access_token', 'expires_in', 'token_type'])
  const access = decodePart(String(answer.body.access_token), 1)
  const id = decodePart(String(answer.body.id_token), 1)
  assert.equal(access.auth_time, original.auth_time)
  assert.equal(access.origin_jti, original.origin_jti)
  assert.notEqual(access.jti, original.jti)
  assert.notEqual(access.event_id, original.event_id)
  assert.equal(Number(access.iat) - Number(original.iat), 600)
  assert.equal(access.scope, 'openid email')
  assert.equal(id.auth_time, original.auth_time)
  assert.equal(id.origin_jti, original.origin_jti)
  assert.equal('nonce' in id, false, 'the authorize nonce belongs to the first ID token only')

  assert.equal((await refresh(cognito, first.refresh_token)).status, 200, 'the refresh token stays usable')
  assert.equal(cognito.requests.tokenRefresh, 2)
})

test('refresh with rotation: a new refresh token each time, the old one lives for the grace period only', async (t) => {
  const { cognito, advance } = await pool(t)
  const first = await login(cognito, { clientId: 'rotating-client' })
  const rotated = await refresh(cognito, first.refresh_token, 'rotating-client')
  assert.equal(rotated.status, 200)
  assert.deepEqual(Object.keys(rotated.body), ['id_token', 'access_token', 'refresh_token', 'expires_in', 'token_type'])
  const second = String(rotated.body.refresh_token)
  assert.notEqual(second, first.refresh_token)
  assert.equal(second.split('.').length, 5)
  assert.equal(decodePart(String(rotated.body.access_token), 1).origin_jti, decodePart(first.access_token, 1).origin_jti)

  advance(9)
  assert.equal((await refresh(cognito, first.refresh_token, 'rotating-client')).status, 200, 'inside the grace period')
  advance(1)
  const late = await refresh(cognito, first.refresh_token, 'rotating-client')
  assert.deepEqual([late.status, late.body], [400, { error: 'invalid_grant' }])
  assert.equal((await refresh(cognito, second, 'rotating-client')).status, 200)

  const strict = await login(cognito, { clientId: 'strict-rotating-client' })
  assert.equal((await refresh(cognito, strict.refresh_token, 'strict-rotating-client')).status, 200)
  assert.equal((await refresh(cognito, strict.refresh_token, 'strict-rotating-client')).status, 400, 'grace period 0')
})

test('expired, unknown, missing or another client\'s refresh token', async (t) => {
  const { cognito, advance } = await pool(t)
  const tokens = await login(cognito)
  const mine = await refresh(cognito, tokens.refresh_token, CONFIDENTIAL_CLIENT)
  assert.deepEqual([mine.status, mine.body], [400, { error: 'invalid_client' }], 'no secret given')
  const foreign = await token(cognito, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, {
    basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET]
  })
  assert.deepEqual([foreign.status, foreign.body], [400, { error: 'invalid_grant' }])
  assert.deepEqual((await refresh(cognito, 'eyJ.unknown.token.value.x')).body, { error: 'invalid_grant' })
  assert.deepEqual((await token(cognito, { grant_type: 'refresh_token', client_id: PUBLIC_CLIENT })).body, { error: 'invalid_request' })

  advance(3599)
  assert.equal((await refresh(cognito, tokens.refresh_token)).status, 200)
  advance(1)
  assert.deepEqual((await refresh(cognito, tokens.refresh_token)).body, { error: 'invalid_grant' })
})

test('token lifetimes follow the client settings and the injectable clock', async (t) => {
  const { cognito, advance } = await pool(t)
  const tokens = await login(cognito, { clientId: 'short-client', scope: 'openid' })
  assert.equal(tokens.expires_in, 2)
  const access = decodePart(tokens.access_token, 1)
  const id = decodePart(tokens.id_token ?? '', 1)
  assert.equal(Number(access.exp) - Number(access.iat), 2)
  assert.equal(Number(id.exp) - Number(id.iat), 1)
  assert.equal((await userInfo(cognito, `Bearer ${tokens.access_token}`)).status, 200)
  advance(2)
  assert.equal((await userInfo(cognito, `Bearer ${tokens.access_token}`)).status, 401)
  const renewed = await refresh(cognito, tokens.refresh_token, 'short-client')
  assert.equal((await userInfo(cognito, `Bearer ${String(renewed.body.access_token)}`)).status, 200)
})

test('a rotated refresh token inherits the remaining lifetime of the one it replaces', async (t) => {
  const clock = manualClock()
  const cognito = await startCognito(t, {
    now: clock.now,
    clients: [{ clientId: 'rotating-client', callbackUrls: [CALLBACK], refreshTokenRotation: true, refreshTokenValiditySeconds: 3600 }]
  })
  const first = await login(cognito, { clientId: 'rotating-client' })
  clock.advance(3000)
  const second = String((await refresh(cognito, first.refresh_token, 'rotating-client')).body.refresh_token)
  const reused = await refresh(cognito, first.refresh_token, 'rotating-client')
  assert.deepEqual([reused.status, reused.body], [400, { error: 'invalid_grant' }], 'the default grace period is 0')

  clock.advance(599)
  const rotated = await refresh(cognito, second, 'rotating-client')
  assert.equal(rotated.status, 200, 'one second before the original expiry')
  const third = String(rotated.body.refresh_token)
  clock.advance(1)
  const expired = await refresh(cognito, third, 'rotating-client')
  assert.deepEqual([expired.status, expired.body], [400, { error: 'invalid_grant' }], 'expired with the original, not 3600 s after rotation')
})
