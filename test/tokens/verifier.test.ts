import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { CognitoTokenExpiredError } from '../../lib/errors.js'
import { createTokenIssuer, type CognitoTokenIssuer } from '../../lib/testing/index.js'
import { accessTokenHash } from '../../lib/tokens/jws.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { CognitoTokenVerifier } from '../../lib/tokens/verifier.js'
import { CLIENT_IDS, OTHER_CLIENT_ID, startIdp } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { decodePart, encodePart } from '../helpers/jwt.js'

// Cognito's claim rules, each on its own, against an in-process issuer (static keys, no server) whose clock and the
// verifier's are one manual clock. The cache is token-cache.test.ts; the fetching key store is jwks.test.ts.
const TOLERANCE = 5

interface Setup {
  issuer: CognitoTokenIssuer
  verifier: CognitoTokenVerifier
  clock: ManualClock
}

async function setup (t: TestContext, { clockTolerance = TOLERANCE }: { clockTolerance?: number } = {}): Promise<Setup> {
  const clock = manualClock()
  const issuer = await createTokenIssuer({ now: clock.now, clientId: CLIENT_IDS.public })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, 'https://unused.invalid/jwks.json', 0, clock.now, issuer.jwks)
  const verifier = new CognitoTokenVerifier(keys, { issuer: issuer.issuer, clientId: issuer.clientId, clockTolerance, now: clock.seconds })
  return { issuer, verifier, clock }
}

async function refusesAccess (verifier: CognitoTokenVerifier, token: string, message: string | RegExp, code = 'FST_COGNITO_INVALID_TOKEN'): Promise<void> {
  await assert.rejects(verifier.verifyAccessToken(token), (error: { code?: string, statusCode?: number, message?: string }) => {
    assert.equal(error.code, code)
    assert.equal(error.statusCode, 401)
    if (typeof message === 'string') assert.equal(error.message, message)
    else assert.match(error.message ?? '', message)
    return true
  })
}

async function refusesId (verifier: CognitoTokenVerifier, token: string, message: string, expected?: Parameters<CognitoTokenVerifier['verifyIdToken']>[1]): Promise<void> {
  await assert.rejects(verifier.verifyIdToken(token, expected), { code: 'FST_COGNITO_INVALID_TOKEN', message })
}

test('a valid access token: its claims, deep-frozen, with the checked values', async (t) => {
  const { issuer, verifier } = await setup(t)
  const token = issuer.mintAccessToken({ scope: 'openid orders/read', 'cognito:groups': ['admin'] })
  const claims = await verifier.verifyAccessToken(token)
  assert.equal(claims.username, 'alice')
  assert.equal(claims.iss, issuer.issuer)
  assert.equal(claims.client_id, CLIENT_IDS.public)
  assert.equal(claims.token_use, 'access')
  assert.equal(claims.scope, 'openid orders/read')
  assert.deepEqual(claims['cognito:groups'], ['admin'])
  assert.ok(Object.isFrozen(claims) && Object.isFrozen(claims['cognito:groups']))
  assert.deepEqual({ ...claims }, decodePart(token, 1))
})

test('verifyAccessTokenNow answers synchronously when the key is held, and throws synchronously on failure', async (t) => {
  const { issuer, verifier } = await setup(t)
  const token = issuer.mintAccessToken()
  const first = verifier.verifyAccessTokenNow(token)
  assert.ok(!(first instanceof Promise), 'no promise when the key is held')
  assert.equal(verifier.verifyAccessTokenNow(token), first, 'then a cache hit')
  assert.throws(() => verifier.verifyAccessTokenNow('not-a-token'), { code: 'FST_COGNITO_INVALID_TOKEN' })
  assert.throws(() => verifier.verifyAccessTokenNow(undefined as unknown as string), { message: 'Token is missing' })
  const unknownKid = verifier.verifyAccessTokenNow(issuer.mintAccessToken({}, { header: { kid: 'unknown' } }))
  assert.ok(unknownKid instanceof Promise, 'a promise when the key must be looked up')
  await assert.rejects(unknownKid, { message: 'Token is signed by an unknown key' })
})

test('with a fetching key store, the first token waits for the JWKS and the next ones do not', async (t) => {
  const idp = await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const verifier = new CognitoTokenVerifier(new JwksKeyStore(http, idp.jwksUri, 0), { issuer: idp.issuer, clientId: CLIENT_IDS.public, clockTolerance: TOLERANCE })
  const first = verifier.verifyAccessTokenNow(await idp.mintAccessToken('alice', CLIENT_IDS.public))
  assert.ok(first instanceof Promise)
  assert.equal((await first).username, 'alice')
  const second = verifier.verifyAccessTokenNow(await idp.mintAccessToken('bob', CLIENT_IDS.public))
  assert.ok(!(second instanceof Promise))
  assert.equal(second.username, 'bob')
  const id = await verifier.verifyIdToken(await idp.mintIdToken('bob', CLIENT_IDS.public))
  assert.equal(id['cognito:username'], 'bob')
  assert.equal(idp.requests.jwks, 1)
})

test('an ID token whose key is not held yet waits for the JWKS, then verifies', async (t) => {
  const idp = await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const verifier = new CognitoTokenVerifier(new JwksKeyStore(http, idp.jwksUri, 0), { issuer: idp.issuer, clientId: CLIENT_IDS.public, clockTolerance: TOLERANCE })
  const claims = await verifier.verifyIdToken(await idp.mintIdToken('alice', CLIENT_IDS.public, { nonce: 'n' }), { nonce: 'n' })
  assert.equal(claims['cognito:username'], 'alice')
  assert.equal(claims.aud, CLIENT_IDS.public)
  assert.equal(idp.requests.jwks, 1)
})

test('the default clock is the real one', async (t) => {
  const issuer = await createTokenIssuer({ clientId: CLIENT_IDS.public })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const verifier = new CognitoTokenVerifier(new JwksKeyStore(http, 'https://unused.invalid', 0, Date.now, issuer.jwks), { issuer: issuer.issuer, clientId: CLIENT_IDS.public, clockTolerance: 0 })
  assert.equal((await verifier.verifyAccessToken(issuer.mintAccessToken())).username, 'alice')
  await assert.rejects(verifier.verifyAccessToken(issuer.mintAccessToken({}, { expiresInSeconds: -1 })), CognitoTokenExpiredError)
})

test('signature first: a changed payload is refused before any claim is read', async (t) => {
  const { issuer, verifier } = await setup(t)
  const [header, , signature] = issuer.mintAccessToken().split('.') as [string, string, string]
  await refusesAccess(verifier, `${header}.${encodePart({ iss: 'anything' })}.${signature}`, 'Token signature is invalid')
  const other = await createTokenIssuer({ clientId: CLIENT_IDS.public })
  const [, payload] = issuer.mintAccessToken().split('.') as [string, string]
  const [, , foreignSignature] = other.mintAccessToken().split('.') as [string, string, string]
  await refusesAccess(verifier, `${header}.${payload}.${foreignSignature}`, 'Token signature is invalid')
})

test('iss must be exactly this pool', async (t) => {
  const { issuer, verifier } = await setup(t)
  for (const iss of [`${issuer.issuer}/`, issuer.issuer.toUpperCase(), 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other', undefined]) {
    await refusesAccess(verifier, issuer.mintAccessToken({ iss }), 'Token issuer is not this user pool')
  }
})

test('token_use must be "access" for access tokens and "id" for ID tokens', async (t) => {
  const { issuer, verifier } = await setup(t)
  await refusesAccess(verifier, issuer.mintIdToken(), 'Token is not an access token')
  await refusesAccess(verifier, issuer.mintAccessToken({ token_use: undefined }), 'Token is not an access token')
  await refusesId(verifier, issuer.mintAccessToken(), 'Token is not an ID token')
})

test('sub must be a non-empty string', async (t) => {
  const { issuer, verifier } = await setup(t)
  for (const sub of [undefined, '', 42]) await refusesAccess(verifier, issuer.mintAccessToken({ sub }), 'Token has no subject')
})

test('exp and iat must be numbers', async (t) => {
  const { issuer, verifier } = await setup(t)
  for (const exp of [undefined, '2000000000', null]) await refusesAccess(verifier, issuer.mintAccessToken({ exp }), 'Token has no expiry')
  for (const iat of [undefined, '1700000000']) await refusesAccess(verifier, issuer.mintAccessToken({ iat }), 'Token has no issue time')
})

test('exp: expired once exp <= now - clockTolerance (a typed 401 of its own)', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const now = Math.floor(clock.seconds())
  assert.ok(await verifier.verifyAccessToken(issuer.mintAccessToken({ exp: now - TOLERANCE + 1 })), 'within the tolerance')
  await refusesAccess(verifier, issuer.mintAccessToken({ exp: now - TOLERANCE }), 'Token has expired', 'FST_COGNITO_TOKEN_EXPIRED')
  const token = issuer.mintAccessToken({}, { expiresInSeconds: 60 })
  assert.ok(await verifier.verifyIdToken(issuer.mintIdToken({}, { expiresInSeconds: 60 })))
  clock.advance(60 + TOLERANCE)
  await refusesAccess(verifier, token, 'Token has expired', 'FST_COGNITO_TOKEN_EXPIRED')
  await assert.rejects(verifier.verifyIdToken(issuer.mintIdToken({ exp: Math.floor(clock.seconds()) - TOLERANCE })), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
})

test('iat and nbf in the future beyond the tolerance are refused; within it they pass', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const now = Math.floor(clock.seconds())
  assert.ok(await verifier.verifyAccessToken(issuer.mintAccessToken({ iat: now + TOLERANCE })))
  await refusesAccess(verifier, issuer.mintAccessToken({ iat: now + TOLERANCE + 1 }), 'Token is issued in the future')
  assert.ok(await verifier.verifyAccessToken(issuer.mintAccessToken({ nbf: now + TOLERANCE })))
  assert.ok(await verifier.verifyAccessToken(issuer.mintAccessToken({ nbf: now - 3600 })))
  await refusesAccess(verifier, issuer.mintAccessToken({ nbf: now + TOLERANCE + 1 }), 'Token is not valid yet')
  await refusesAccess(verifier, issuer.mintAccessToken({ nbf: String(now) }), 'Token is not valid yet')
})

test('clockTolerance 0: no skew at all', async (t) => {
  const { issuer, verifier, clock } = await setup(t, { clockTolerance: 0 })
  const now = Math.floor(clock.seconds())
  await refusesAccess(verifier, issuer.mintAccessToken({ exp: now }), 'Token has expired', 'FST_COGNITO_TOKEN_EXPIRED')
  await refusesAccess(verifier, issuer.mintAccessToken({ iat: now + 1 }), 'Token is issued in the future')
})

test('cognito:groups, when present, must be a list of strings', async (t) => {
  const { issuer, verifier } = await setup(t)
  for (const groups of ['admin', [1], [['admin']], { admin: true }]) {
    await refusesAccess(verifier, issuer.mintAccessToken({ 'cognito:groups': groups }), 'Token cognito:groups is malformed')
  }
  await refusesId(verifier, issuer.mintIdToken({ 'cognito:groups': 'admin' }), 'Token cognito:groups is malformed')
  assert.deepEqual((await verifier.verifyAccessToken(issuer.mintAccessToken({ 'cognito:groups': [] })))['cognito:groups'], [])
})

test('access tokens: client_id must be this app client, username a string, scope a string', async (t) => {
  const { issuer, verifier } = await setup(t)
  await refusesAccess(verifier, issuer.mintAccessToken({}, { clientId: OTHER_CLIENT_ID }), 'Token was issued to another app client')
  await refusesAccess(verifier, issuer.mintAccessToken({ client_id: undefined }), 'Token was issued to another app client')
  await refusesAccess(verifier, issuer.mintAccessToken({ aud: CLIENT_IDS.public, client_id: undefined }), 'Token was issued to another app client')
  await refusesAccess(verifier, issuer.mintAccessToken({ username: undefined }), 'Token has no username')
  await refusesAccess(verifier, issuer.mintAccessToken({ scope: ['openid'] }), 'Token scope is malformed')
  assert.equal((await verifier.verifyAccessToken(issuer.mintAccessToken({ scope: undefined }))).scope, undefined, 'no scope at all is fine')
})

test('ID tokens: aud is this app client, alone', async (t) => {
  const { issuer, verifier } = await setup(t)
  assert.equal((await verifier.verifyIdToken(issuer.mintIdToken())).aud, CLIENT_IDS.public)
  assert.ok(await verifier.verifyIdToken(issuer.mintIdToken({ aud: [CLIENT_IDS.public] })), 'a one-member array')
  for (const aud of [OTHER_CLIENT_ID, [CLIENT_IDS.public, OTHER_CLIENT_ID], [], undefined, [42]]) {
    await refusesId(verifier, issuer.mintIdToken({ aud }), 'Token audience is not this app client')
  }
  await refusesId(verifier, issuer.mintIdToken({ 'cognito:username': undefined }), 'Token has no cognito:username')
})

test('ID tokens: the nonce of the login, when one is expected', async (t) => {
  const { issuer, verifier } = await setup(t)
  const token = issuer.mintIdToken({}, { nonce: 'nonce-of-this-login' })
  assert.equal((await verifier.verifyIdToken(token, { nonce: 'nonce-of-this-login' })).nonce, 'nonce-of-this-login')
  await refusesId(verifier, token, 'Token nonce does not match the login', { nonce: 'another-nonce' })
  await refusesId(verifier, issuer.mintIdToken(), 'Token nonce does not match the login', { nonce: 'nonce-of-this-login' })
  await refusesId(verifier, issuer.mintIdToken({ nonce: 42 }), 'Token nonce does not match the login', { nonce: '42' })
  assert.ok(await verifier.verifyIdToken(token), 'no nonce expected (a refresh): none is checked')
})

test('ID tokens: at_hash, when present, matches the access token it came with', async (t) => {
  const { issuer, verifier } = await setup(t)
  const accessToken = issuer.mintAccessToken()
  assert.ok(await verifier.verifyIdToken(issuer.mintIdToken({ at_hash: accessTokenHash(accessToken) }), { accessToken }))
  assert.ok(await verifier.verifyIdToken(issuer.mintIdToken(), { accessToken }), 'no at_hash: nothing to compare')
  await refusesId(verifier, issuer.mintIdToken({ at_hash: accessTokenHash(issuer.mintAccessToken({ jti: 'other' })) }), 'Token at_hash does not match the access token', { accessToken })
  await refusesId(verifier, issuer.mintIdToken({ at_hash: 42 }), 'Token at_hash does not match the access token', { accessToken })
  assert.ok(await verifier.verifyIdToken(issuer.mintIdToken({ at_hash: 'anything' })), 'no access token given: at_hash is not checked')
})

test('an ID token signed by an unknown key is refused after a key lookup', async (t) => {
  const { issuer, verifier } = await setup(t)
  await refusesId(verifier, issuer.mintIdToken({}, { header: { kid: 'unknown' } }), 'Token is signed by an unknown key')
  await assert.rejects(verifier.verifyIdToken('a.b'), { message: /three dot-separated parts/ })
})

test('cachedAccessToken and the counters see only what verified', async (t) => {
  const { issuer, verifier } = await setup(t)
  const token = issuer.mintAccessToken()
  assert.equal(verifier.cachedAccessToken(token), undefined)
  assert.equal(verifier.cachedTokenCount, 0)
  const claims = await verifier.verifyAccessToken(token)
  assert.equal(verifier.cachedAccessToken(token), claims)
  assert.equal(verifier.cachedTokenCount, 1)
  await verifier.verifyIdToken(issuer.mintIdToken())
  assert.equal(verifier.cachedTokenCount, 1, 'ID tokens are never cached')
  verifier.revokeAccessToken(token)
  assert.equal(verifier.revokedTokenCount, 1)
  assert.equal(verifier.cachedTokenCount, 0)
  await refusesAccess(verifier, token, 'Token was revoked by a sign-out')
})
