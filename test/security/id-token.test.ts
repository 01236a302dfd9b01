import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { LocalCognitoTokenOverrides } from '../../lib/testing/index.js'
import { buildApp, CLIENT_IDS, OTHER_CLIENT_ID, startIdp } from '../helpers/app.js'
import { startFakeCognito, startPendingLogin } from '../helpers/fake-cognito.js'

type IdTokenRecipe = (nonce: string) => LocalCognitoTokenOverrides & { nonce?: string, username?: string }

/**
 * OpenID Connect Core 3.1.3.7: the callback must refuse an ID token that fails any check, even when it comes from
 * the token endpoint over the back channel. The token endpoint here returns a real access token and an ID token
 * crafted by the recipe, both signed with the local pool's keys.
 */
async function callbackWithIdToken (t: TestContext, recipe: IdTokenRecipe): Promise<{ statusCode: number, code: string | undefined, session: boolean }> {
  const idp = await startIdp(t)
  let nonce = ''
  const fake = await startFakeCognito(t, {
    token: async () => {
      const { username = 'alice', ...overrides } = recipe(nonce)
      const accessToken = await idp.mintAccessToken('alice', CLIENT_IDS.public)
      return {
        access_token: accessToken,
        id_token: await idp.mintIdToken(username, CLIENT_IDS.public, { nonce, ...overrides }),
        refresh_token: 'opaque-refresh-token',
        token_type: 'Bearer',
        expires_in: 3600
      }
    }
  })
  const app = await buildApp(t, idp, 'public', { domain: fake.domain })
  app.log.level = 'silent'
  const pending = await startPendingLogin(app)
  nonce = pending.nonce
  const response = await app.inject({ url: pending.callback(), headers: { cookie: pending.jar.header } })
  return {
    statusCode: response.statusCode,
    code: response.statusCode === 302 ? undefined : response.json().code,
    session: response.cookies.some((cookie: { name: string, value: string }) => cookie.name.includes('_session') && cookie.value !== '')
  }
}

const refused = { statusCode: 401, code: 'FST_COGNITO_INVALID_TOKEN', session: false }

test('control: a correct ID token is accepted by the same harness', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({})), { statusCode: 302, code: undefined, session: true })
})

test('ID token with a wrong nonce is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ nonce: 'attacker-nonce' })), refused)
})

test('ID token without a nonce is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { nonce: undefined } })), refused)
})

test('ID token for another audience is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { aud: OTHER_CLIENT_ID } })), refused)
})

test('ID token with several audiences is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { aud: [CLIENT_IDS.public, OTHER_CLIENT_ID] } })), refused)
})

test('ID token with token_use=access is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { token_use: 'access' } })), refused)
})

test('expired ID token is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ expiresInSeconds: -120 })), { statusCode: 401, code: 'FST_COGNITO_TOKEN_EXPIRED', session: false })
})

test('ID token issued in the future is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { iat: Math.floor(Date.now() / 1000) + 600 } })), refused)
})

test('ID token from another issuer is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Attacker' } })), refused)
})

test('ID token whose at_hash does not match the access token is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ claims: { at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' } })), refused)
})

test('ID token of another user than the access token is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ username: 'bob', claims: { at_hash: undefined } })), refused)
})

test('ID token with alg RS512 in its header is refused', async (t) => {
  assert.deepEqual(await callbackWithIdToken(t, () => ({ header: { alg: 'RS512' } })), refused)
})
