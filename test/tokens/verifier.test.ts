import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { CognitoTokenExpiredError } from '../../lib/errors.js'
import { createTokenIssuer, type CognitoTokenIssuer } from '../../lib/testing/index.js'
import { accessTokenHash } from '../../lib/tokens/jws.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { CognitoTokenVerifier, type TokenVerifierOptions } from '../../lib/tokens/verifier.js'
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

/** A verifier of one pool: `pool`'s issuer and id, its keys, its one app client. */
function poolVerifier (keys: JwksKeyStore, pool: { issuer: string, userPoolId: string, clientId: string }, options: Omit<TokenVerifierOptions, 'clientId'>): CognitoTokenVerifier {
  return new CognitoTokenVerifier([{ issuer: pool.issuer, userPoolId: pool.userPoolId, keys, clientIds: [pool.clientId] }], { clientId: pool.clientId, ...options })
}

async function setup (t: TestContext, { clockTolerance = TOLERANCE }: { clockTolerance?: number } = {}): Promise<Setup> {
  const clock = manualClock()
  const issuer = await createTokenIssuer({ now: clock.now, clientId: CLIENT_IDS.public })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, 'https://unused.invalid/jwks.json', 0, clock.now, issuer.jwks)
  const verifier = poolVerifier(keys, issuer, { clockTolerance, now: clock.seconds })
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
  const verifier = poolVerifier(new JwksKeyStore(http, idp.jwksUri, 0), { issuer: idp.issuer, userPoolId: idp.userPoolId, clientId: CLIENT_IDS.public }, { clockTolerance: TOLERANCE })
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
  const verifier = poolVerifier(new JwksKeyStore(http, idp.jwksUri, 0), { issuer: idp.issuer, userPoolId: idp.userPoolId, clientId: CLIENT_IDS.public }, { clockTolerance: TOLERANCE })
  const claims = await verifier.verifyIdToken(await idp.mintIdToken('alice', CLIENT_IDS.public, { nonce: 'n' }), { nonce: 'n' })
  assert.equal(claims['cognito:username'], 'alice')
  assert.equal(claims.aud, CLIENT_IDS.public)
  assert.equal(idp.requests.jwks, 1)
})

test('the default clock is the real one', async (t) => {
  const issuer = await createTokenIssuer({ clientId: CLIENT_IDS.public })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const verifier = poolVerifier(new JwksKeyStore(http, 'https://unused.invalid', 0, Date.now, issuer.jwks), issuer, { clockTolerance: 0 })
  assert.equal((await verifier.verifyAccessToken(issuer.mintAccessToken())).username, 'alice')
  await assert.rejects(verifier.verifyAccessToken(issuer.mintAccessToken({}, { expiresInSeconds: -1 })), CognitoTokenExpiredError)
})

test('signature first: a changed payload is refused before any claim but iss (which picks the pool\'s keys) is read', async (t) => {
  const { issuer, verifier } = await setup(t)
  const [header, , signature] = issuer.mintAccessToken().split('.') as [string, string, string]
  await refusesAccess(verifier, `${header}.${encodePart({ iss: issuer.issuer })}.${signature}`, 'Token signature is invalid')
  await refusesAccess(verifier, `${header}.${encodePart({ iss: 'anything' })}.${signature}`, 'Token issuer is not a user pool of this app')
  const other = await createTokenIssuer({ clientId: CLIENT_IDS.public })
  const [, payload] = issuer.mintAccessToken().split('.') as [string, string]
  const [, , foreignSignature] = other.mintAccessToken().split('.') as [string, string, string]
  await refusesAccess(verifier, `${header}.${payload}.${foreignSignature}`, 'Token signature is invalid')
})

test('iss must be exactly this pool', async (t) => {
  const { issuer, verifier } = await setup(t)
  for (const iss of [`${issuer.issuer}/`, issuer.issuer.toUpperCase(), 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other', undefined, 42]) {
    await refusesAccess(verifier, issuer.mintAccessToken({ iss }), 'Token issuer is not a user pool of this app')
    await refusesId(verifier, issuer.mintIdToken({ iss }), 'Token issuer is not this user pool')
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
  await refusesAccess(verifier, issuer.mintAccessToken({ username: 42 }), 'Token has no username')
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

test('machine tokens: no username, the app client as subject, pass; their claims as Cognito mints them', async (t) => {
  const { issuer, verifier } = await setup(t)
  const claims = await verifier.verifyAccessToken(issuer.mintMachineToken({ scopes: ['orders/read'] }))
  assert.equal(claims.username, undefined)
  assert.equal(claims.sub, CLIENT_IDS.public)
  assert.equal(claims.client_id, CLIENT_IDS.public)
  assert.equal(claims.scope, 'orders/read')
  await refusesAccess(verifier, issuer.mintMachineToken({ scopes: ['orders/read'], claims: { sub: 'someone' } }), 'Token has no username')
  await refusesAccess(verifier, issuer.mintMachineToken({ scopes: ['orders/read'], clientId: OTHER_CLIENT_ID }), 'Token was issued to another app client')
})

test('ID tokens: the access token\'s sub, when given, must be the ID token\'s', async (t) => {
  const { issuer, verifier } = await setup(t)
  const alice = issuer.users.find((user) => user.username === 'alice')?.sub as string
  assert.equal((await verifier.verifyIdToken(issuer.mintIdToken(), { sub: alice })).sub, alice)
  await refusesId(verifier, issuer.mintIdToken({}, { username: 'bob' }), 'ID token and access token belong to different users', { sub: alice })
})

test('allowExpired: an expired token passes every other check (to name the user of an ending session)', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const access = issuer.mintAccessToken({}, { expiresInSeconds: 60 })
  const id = issuer.mintIdToken({}, { expiresInSeconds: 60 })
  clock.advance(3600)
  await refusesAccess(verifier, access, 'Token has expired', 'FST_COGNITO_TOKEN_EXPIRED')
  assert.equal((await verifier.verifyAccessTokenNow(access, { allowExpired: true })).username, 'alice')
  assert.equal(verifier.cachedAccessToken(access), undefined, 'an expired token is not cached')
  assert.equal((await verifier.verifyIdTokenNow(id, { allowExpired: true }))['cognito:username'], 'alice')
  await assert.rejects(verifier.verifyIdToken(id), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
  const [header, , signature] = access.split('.') as [string, string, string]
  assert.throws(() => verifier.verifyAccessTokenNow(`${header}.${encodePart({ iss: issuer.issuer, sub: 'x' })}.${signature}`, { allowExpired: true }), { message: 'Token signature is invalid' })
})

test('verifyIdTokenNow answers synchronously when the key is held', async (t) => {
  const { issuer, verifier } = await setup(t)
  const claims = verifier.verifyIdTokenNow(issuer.mintIdToken())
  assert.ok(!(claims instanceof Promise))
  assert.equal(claims['cognito:username'], 'alice')
  assert.ok(Object.isFrozen(claims))
  assert.throws(() => verifier.verifyIdTokenNow(issuer.mintIdToken({ aud: OTHER_CLIENT_ID })), { message: 'Token audience is not this app client' })
})

test('several pools: each token finds its pool by iss, is checked with that pool\'s keys and against its clients', async (t) => {
  const clock = manualClock()
  const a = await createTokenIssuer({ now: clock.now, clientId: CLIENT_IDS.public })
  const b = await createTokenIssuer({ now: clock.now, clientId: CLIENT_IDS.confidential })
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keysA = new JwksKeyStore(http, 'https://unused.invalid/a', 0, clock.now, a.jwks)
  const keysB = new JwksKeyStore(http, 'https://unused.invalid/b', 0, clock.now, b.jwks)
  const verifier = new CognitoTokenVerifier([
    { issuer: a.issuer, userPoolId: a.userPoolId, keys: keysA, clientIds: [CLIENT_IDS.public] },
    { issuer: b.issuer, userPoolId: b.userPoolId, keys: keysB, clientIds: [CLIENT_IDS.confidential] }
  ], { clientId: CLIENT_IDS.public, clockTolerance: TOLERANCE, now: clock.seconds })
  assert.equal((await verifier.verifyAccessToken(a.mintAccessToken())).iss, a.issuer)
  assert.equal((await verifier.verifyAccessToken(b.mintAccessToken())).iss, b.issuer)
  await refusesAccess(verifier, b.mintAccessToken({}, { clientId: CLIENT_IDS.public }), 'Token was issued to another app client', 'FST_COGNITO_INVALID_TOKEN')
  assert.equal(verifier.userPoolIdOf(a.issuer), a.userPoolId)
  assert.equal(verifier.userPoolIdOf(b.issuer), b.userPoolId)
  assert.equal(verifier.userPoolIdOf('https://elsewhere.example.com'), undefined)
  // ID tokens come from sign-in, which is the first pool's.
  assert.ok(await verifier.verifyIdToken(a.mintIdToken()))
  await refusesId(verifier, b.mintIdToken({}, { clientId: CLIENT_IDS.public }), 'Token issuer is not this user pool')
  assert.equal(verifier.cachedTokenCount, 2)
})

test('revokeTokenId: a sign-out announced by another instance refuses the tokens of that sign-in (origin_jti) or that one token (jti)', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const now = Math.floor(clock.seconds())
  const sameSignIn = [issuer.mintAccessToken({ origin_jti: 'sign-in-1', jti: 'a' }), issuer.mintAccessToken({ origin_jti: 'sign-in-1', jti: 'b' })]
  const byJti = issuer.mintAccessToken({ origin_jti: undefined, jti: 'token-2' })
  const other = issuer.mintAccessToken({ origin_jti: 'sign-in-3', jti: 'c' })
  const cached = await verifier.verifyAccessToken(sameSignIn[0] as string)
  assert.equal(verifier.cachedAccessToken(sameSignIn[0] as string), cached)

  verifier.revokeTokenId('sign-in-1', now + 3600)
  verifier.revokeTokenId('token-2', now + 3600)
  assert.equal(verifier.cachedAccessToken(sameSignIn[0] as string), undefined, 'its cached entry is dropped')
  for (const token of [...sameSignIn, byJti]) await refusesAccess(verifier, token, 'Token was revoked by a sign-out')
  await verifier.verifyAccessToken(other)
  assert.equal(verifier.revokedTokenCount, 0, 'revoked by id: the list of signatures is not used')
})

test('revokeTokenId: until the given expiry (plus the clock tolerance), at most a day', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const now = clock.seconds()
  const token = issuer.mintAccessToken({ origin_jti: 'short', jti: 'x' })
  verifier.revokeTokenId('short', now + 60)
  clock.advance(60 + TOLERANCE - 0.001)
  await refusesAccess(verifier, token, 'Token was revoked by a sign-out')
  clock.advance(0.001)
  assert.equal((await verifier.verifyAccessToken(token)).origin_jti, 'short', 'the revocation has run out (the announced expiry passed)')

  const lasting = issuer.mintAccessToken({ origin_jti: 'long', jti: 'y', exp: Math.floor(clock.seconds()) + 7 * 24 * 3600 })
  verifier.revokeTokenId('long', clock.seconds() + 7 * 24 * 3600)
  clock.advance(24 * 3600 + TOLERANCE - 1)
  await refusesAccess(verifier, lasting, 'Token was revoked by a sign-out')
  clock.advance(2)
  assert.equal((await verifier.verifyAccessToken(lasting)).origin_jti, 'long', 'kept a day at most')
})

test('revokeTokenId ignores an id that is no id and an expiry that is no number', async (t) => {
  const { issuer, verifier, clock } = await setup(t)
  const token = issuer.mintAccessToken({ origin_jti: 'o', jti: 'j' })
  for (const [id, expiresAt] of [['', clock.seconds() + 60], [42, clock.seconds() + 60], [undefined, clock.seconds() + 60], ['o', Number.NaN], ['j', Number.POSITIVE_INFINITY], ['o', '2030' as unknown as number]] as const) {
    verifier.revokeTokenId(id as unknown as string, expiresAt)
  }
  assert.equal((await verifier.verifyAccessToken(token)).jti, 'j')
})
