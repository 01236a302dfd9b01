import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { CognitoTokenSet } from '../../lib/cognito/client.js'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { createTokenIssuer, type CognitoTokenIssuer } from '../../lib/testing/index.js'
import { accessTokenHash } from '../../lib/tokens/jws.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { verifyTokenSet } from '../../lib/tokens/token-set.js'
import { CognitoTokenVerifier } from '../../lib/tokens/verifier.js'
import { CLIENT_IDS } from '../helpers/app.js'

async function setup (t: TestContext): Promise<{ issuer: CognitoTokenIssuer, verifier: CognitoTokenVerifier, tokens: (overrides?: Partial<CognitoTokenSet> & { nonce?: string, idUser?: string }) => CognitoTokenSet }> {
  const issuer = await createTokenIssuer({ clientId: CLIENT_IDS.public })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, 'https://unused.invalid', 0, Date.now, issuer.jwks)
  const verifier = new CognitoTokenVerifier([{ issuer: issuer.issuer, userPoolId: issuer.userPoolId, keys, clientIds: [CLIENT_IDS.public] }], { clientId: CLIENT_IDS.public, clockTolerance: 5 })
  /** What a token endpoint answers for alice: an access token and an ID token carrying its at_hash. */
  const tokens = ({ nonce, idUser = 'alice', ...overrides }: Partial<CognitoTokenSet> & { nonce?: string, idUser?: string } = {}): CognitoTokenSet => {
    const accessToken = overrides.accessToken ?? issuer.mintAccessToken()
    return {
      accessToken,
      idToken: issuer.mintIdToken({ at_hash: accessTokenHash(accessToken) }, { username: idUser, ...(nonce === undefined ? {} : { nonce }) }),
      refreshToken: 'opaque-refresh-token',
      expiresIn: 3600,
      ...overrides
    }
  }
  return { issuer, verifier, tokens }
}

test('both tokens verified: the access and ID claims', async (t) => {
  const { verifier, tokens } = await setup(t)
  const { access, id } = await verifyTokenSet(verifier, tokens({ nonce: 'n-1' }), { requireIdToken: true, nonce: 'n-1' })
  assert.equal(access.token_use, 'access')
  assert.equal(id?.token_use, 'id')
  assert.equal(id?.sub, access.sub)
})

test('no ID token: fine unless openid was asked, then the IdP answered wrong (502)', async (t) => {
  const { verifier, tokens } = await setup(t)
  const withoutId = tokens({ idToken: undefined })
  const { access, id } = await verifyTokenSet(verifier, withoutId, { requireIdToken: false })
  assert.equal(access.username, 'alice')
  assert.equal(id, undefined)
  await assert.rejects(verifyTokenSet(verifier, withoutId, { requireIdToken: true }), {
    code: 'FST_COGNITO_IDP_BAD_RESPONSE',
    statusCode: 502,
    message: 'Cognito token endpoint answered without an id_token although "openid" was asked'
  })
})

test('the access token is verified first: an invalid one fails whatever the ID token', async (t) => {
  const { issuer, verifier, tokens } = await setup(t)
  await assert.rejects(verifyTokenSet(verifier, tokens({ accessToken: issuer.mintAccessToken({}, { expiresInSeconds: -60 }) }), { requireIdToken: true }), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
  await assert.rejects(verifyTokenSet(verifier, tokens({ accessToken: issuer.mintIdToken() }), { requireIdToken: true }), { message: 'Token is not an access token' })
})

test('on refresh, the tokens must name the session\'s user', async (t) => {
  const { issuer, verifier, tokens } = await setup(t)
  const alice = issuer.users.find((user) => user.username === 'alice')?.sub as string
  assert.ok(await verifyTokenSet(verifier, tokens(), { requireIdToken: true, sub: alice }))
  await assert.rejects(verifyTokenSet(verifier, tokens(), { requireIdToken: true, sub: 'someone-else' }), {
    code: 'FST_COGNITO_INVALID_TOKEN',
    message: 'Refreshed tokens belong to another user'
  })
})

test('an ID token of another user than the access token is refused', async (t) => {
  const { verifier, tokens } = await setup(t)
  await assert.rejects(verifyTokenSet(verifier, tokens({ idUser: 'bob' }), { requireIdToken: true }), {
    code: 'FST_COGNITO_INVALID_TOKEN',
    message: 'ID token and access token belong to different users'
  })
})

test('the ID token is checked against the login\'s nonce and the access token\'s at_hash', async (t) => {
  const { issuer, verifier, tokens } = await setup(t)
  await assert.rejects(verifyTokenSet(verifier, tokens({ nonce: 'n-1' }), { requireIdToken: true, nonce: 'n-2' }), { message: 'Token nonce does not match the login' })
  const swapped = { ...tokens(), accessToken: issuer.mintAccessToken() }
  await assert.rejects(verifyTokenSet(verifier, swapped, { requireIdToken: true }), { message: 'Token at_hash does not match the access token' })
})
