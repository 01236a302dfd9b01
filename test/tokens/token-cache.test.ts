import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { CognitoTokenVerifier, REVOKED_TOKENS_MAX } from '../../lib/tokens/verifier.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CLIENT_IDS, startIdp } from '../helpers/app.js'

const TOLERANCE = 5

interface Setup {
  idp: LocalCognito
  keys: JwksKeyStore
  verifier: CognitoTokenVerifier
  /** Moves the verifier's clock (seconds); the IdP keeps real time. */
  advance: (seconds: number) => void
  mint: (overrides?: Parameters<LocalCognito['mintAccessToken']>[2]) => Promise<string>
}

async function setup (t: TestContext, { tokenCacheSize, idp }: { tokenCacheSize?: number, idp?: LocalCognito } = {}): Promise<Setup> {
  const pool = idp ?? await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, pool.jwksUri, 0)
  await keys.refresh()
  let offset = 0
  const verifier = new CognitoTokenVerifier(keys, {
    issuer: pool.issuer,
    clientId: CLIENT_IDS.public,
    clockTolerance: TOLERANCE,
    now: () => Date.now() / 1000 + offset,
    ...(tokenCacheSize === undefined ? {} : { tokenCacheSize })
  })
  return {
    idp: pool,
    keys,
    verifier,
    advance: (seconds) => { offset += seconds },
    mint: async (overrides) => await pool.mintAccessToken('alice', CLIENT_IDS.public, overrides)
  }
}

function expSeconds (token: string): number {
  return (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp
}

/** The same token with its signature in non-canonical base64url: the last character's unused bits set. */
function reencodedSignature (token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(signature.at(-1) as string)
  const variant = `${signature.slice(0, -1)}${alphabet[last | 0b1111] as string}`
  assert.notEqual(variant, signature)
  assert.deepEqual(Buffer.from(variant, 'base64url'), Buffer.from(signature, 'base64url'))
  return `${header}.${payload}.${variant}`
}

test('a token seen again is a hit: the same frozen claims, no new verification', async (t) => {
  const { verifier, mint } = await setup(t)
  const token = await mint()
  assert.equal(verifier.cachedAccessToken(token), undefined, 'nothing before the first verification')
  const first = await verifier.verifyAccessToken(token)
  assert.equal(verifier.cachedTokenCount, 1)
  assert.equal(verifier.cachedAccessToken(token), first)
  assert.equal(await verifier.verifyAccessToken(token), first)
  assert.ok(Object.isFrozen(first))
  assert.ok(Object.isFrozen(first['cognito:groups']))
  assert.throws(() => { (first['cognito:groups'] as string[]).push('root') }, TypeError)
  assert.throws(() => { (first as { username: string }).username = 'mallory' }, TypeError)
})

test('different tokens are different entries; a token differing by one character is a miss and fails', async (t) => {
  const { verifier, mint } = await setup(t)
  const token = await mint()
  await verifier.verifyAccessToken(token)
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const flipped = `${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`
  assert.equal(verifier.cachedAccessToken(flipped), undefined)
  await assert.rejects(verifier.verifyAccessToken(flipped), { code: 'FST_COGNITO_INVALID_TOKEN' })
  assert.equal(verifier.cachedTokenCount, 1, 'a failure is never cached')
})

test('a hit still checks exp with the clock tolerance, and the entry is dropped at exp', async (t) => {
  const { verifier, mint, advance } = await setup(t)
  const token = await mint({ expiresInSeconds: 60 })
  const claims = await verifier.verifyAccessToken(token)
  const remaining = expSeconds(token) + TOLERANCE - Date.now() / 1000
  advance(remaining - 0.5)
  assert.equal(verifier.cachedAccessToken(token), claims, 'still valid within the tolerance')
  advance(0.6)
  assert.equal(verifier.cachedAccessToken(token), undefined)
  assert.equal(verifier.cachedTokenCount, 0, 'no expired entry is held')
  await assert.rejects(verifier.verifyAccessToken(token), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
})

test('expired entries leave even when nobody presents them again', async (t) => {
  const { verifier, mint, advance } = await setup(t)
  await verifier.verifyAccessToken(await mint({ expiresInSeconds: 30 }))
  await verifier.verifyAccessToken(await mint({ expiresInSeconds: 30 }))
  const lasting = await mint({ expiresInSeconds: 3600 })
  await verifier.verifyAccessToken(lasting)
  assert.equal(verifier.cachedTokenCount, 3)
  advance(60)
  assert.ok(verifier.cachedAccessToken(lasting))
  assert.equal(verifier.cachedTokenCount, 1)
})

test('bounded: the least recently used token leaves; it is verified in full when it comes back', async (t) => {
  const { verifier, mint } = await setup(t, { tokenCacheSize: 3 })
  const tokens = await Promise.all(Array.from({ length: 5 }, async () => await mint()))
  const claims = []
  for (const token of tokens) claims.push(await verifier.verifyAccessToken(token))
  assert.equal(verifier.cachedTokenCount, 3)
  assert.equal(verifier.cachedAccessToken(tokens[0] as string), undefined)
  assert.equal(verifier.cachedAccessToken(tokens[4] as string), claims[4])
  const again = await verifier.verifyAccessToken(tokens[0] as string)
  assert.notEqual(again, claims[0], 'a new verification')
  assert.deepEqual(again, claims[0])
  assert.equal(verifier.cachedTokenCount, 3)
})

test('tokenCacheSize 0: every presentation is verified in full', async (t) => {
  const { verifier, mint } = await setup(t, { tokenCacheSize: 0 })
  const token = await mint()
  const first = await verifier.verifyAccessToken(token)
  const second = await verifier.verifyAccessToken(token)
  assert.notEqual(first, second)
  assert.equal(verifier.cachedTokenCount, 0)
  assert.equal(verifier.cachedAccessToken(token), undefined)
})

test('key rotation: once a refetch removes the kid, its cached tokens are gone and refused', async (t) => {
  const { idp, keys, verifier, mint } = await setup(t)
  const old = await mint()
  const oldClaims = await verifier.verifyAccessToken(old)

  // A refetch that finds the same keys keeps the entries.
  await keys.refresh()
  assert.equal(verifier.cachedAccessToken(old), oldClaims)

  await idp.rotateKeys()
  assert.equal(verifier.cachedAccessToken(old), oldClaims, 'until the process learns of the rotation, as without a cache')
  const fresh = await mint()
  await verifier.verifyAccessToken(fresh) // unknown kid: the store refetches
  assert.equal(verifier.cachedTokenCount, 1, 'the old entry left with its key')
  assert.equal(verifier.cachedAccessToken(old), undefined)
  await assert.rejects(verifier.verifyAccessToken(old), { code: 'FST_COGNITO_INVALID_TOKEN', message: /unknown key/ })
})

test('a refetch that removes the keys (e.g. by the app calling refresh) drops their entries before any lookup', async (t) => {
  const { idp, keys, verifier, mint } = await setup(t)
  const token = await mint()
  await verifier.verifyAccessToken(token)
  await idp.rotateKeys()
  await keys.refresh()
  assert.equal(verifier.cachedAccessToken(token), undefined)
  assert.equal(verifier.cachedTokenCount, 0)
})

test('a failure is not cached: a token refused while the JWKS was down passes once it is back', async (t) => {
  const idp = await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, idp.jwksUri, 0)
  const verifier = new CognitoTokenVerifier(keys, { issuer: idp.issuer, clientId: CLIENT_IDS.public, clockTolerance: TOLERANCE })
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  idp.setJwksAvailable(false)
  await assert.rejects(verifier.verifyAccessToken(token), { code: 'FST_COGNITO_IDP_UNAVAILABLE' })
  idp.setJwksAvailable(true)
  await new Promise((resolve) => setTimeout(resolve, 1100)) // the store retries after a failure after 1 s
  assert.equal((await verifier.verifyAccessToken(token)).username, 'alice')
})

test('invalid tokens are never cached, whatever the reason', async (t) => {
  const { verifier, idp } = await setup(t)
  const bad = [
    await idp.mintAccessToken('alice', 'another-app-client'),
    await idp.mintAccessToken('alice', CLIENT_IDS.public, { expiresInSeconds: -60 }),
    await idp.mintAccessToken('alice', CLIENT_IDS.public, { claims: { iss: 'https://elsewhere.example.com' } }),
    await idp.mintIdToken('alice', CLIENT_IDS.public)
  ]
  for (const token of bad) {
    await assert.rejects(verifier.verifyAccessToken(token))
    await assert.rejects(verifier.verifyAccessToken(token), 'refused again, by the full checks')
  }
  assert.equal(verifier.cachedTokenCount, 0)
})

test('logout: a revoked token is dropped and refused until it expires; other tokens are unaffected', async (t) => {
  const { verifier, mint, advance } = await setup(t)
  const revoked = await mint({ expiresInSeconds: 120 })
  const other = await mint()
  await verifier.verifyAccessToken(revoked)
  const otherClaims = await verifier.verifyAccessToken(other)
  verifier.revokeAccessToken(revoked)
  assert.equal(verifier.cachedAccessToken(revoked), undefined)
  assert.equal(verifier.revokedTokenCount, 1)
  await assert.rejects(verifier.verifyAccessToken(revoked), { code: 'FST_COGNITO_INVALID_TOKEN', message: /revoked/ })
  await assert.rejects(verifier.verifyAccessToken(revoked), { code: 'FST_COGNITO_INVALID_TOKEN', message: /revoked/ })
  assert.equal(verifier.cachedAccessToken(other), otherClaims)

  // Past its exp the token is refused as expired, and the denylist no longer needs to hold it.
  advance(expSeconds(revoked) + TOLERANCE - Date.now() / 1000 + 1)
  await assert.rejects(verifier.verifyAccessToken(revoked), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
  await assert.rejects(verifier.verifyAccessToken(await mint({ expiresInSeconds: 1 })), { code: 'FST_COGNITO_TOKEN_EXPIRED' })
  await verifier.verifyAccessToken(await mint({ expiresInSeconds: 7200 }))
  assert.equal(verifier.revokedTokenCount, 0)
})

test('logout: revoking before the token was ever seen works too', async (t) => {
  const { verifier, mint } = await setup(t)
  const token = await mint()
  verifier.revokeAccessToken(token)
  await assert.rejects(verifier.verifyAccessToken(token), { message: /revoked/ })
  assert.equal(verifier.cachedTokenCount, 0)
})

test('logout: a re-encoding of the revoked signature is refused too, and such variants are never cached', async (t) => {
  const { verifier, mint } = await setup(t)
  const token = await mint()
  const variant = reencodedSignature(token)
  // Without a logout the variant verifies (same signature bytes), as it always did, but it is not cached.
  assert.equal((await verifier.verifyAccessToken(variant)).username, 'alice')
  assert.equal(verifier.cachedTokenCount, 0)
  await verifier.verifyAccessToken(token)
  assert.equal(verifier.cachedTokenCount, 1)

  verifier.revokeAccessToken(variant)
  assert.equal(verifier.cachedTokenCount, 0, 'the canonical entry left with the variant')
  await assert.rejects(verifier.verifyAccessToken(token), { message: /revoked/ })
  await assert.rejects(verifier.verifyAccessToken(variant), { message: /revoked/ })
})

test('logout: garbage is ignored, and the denylist is bounded', async (t) => {
  const { verifier, mint } = await setup(t)
  verifier.revokeAccessToken('not-a-token')
  verifier.revokeAccessToken('a.b.!!!')
  verifier.revokeAccessToken(undefined as unknown as string)
  assert.equal(verifier.revokedTokenCount, 0)
  const token = await mint()
  const [header, payload] = token.split('.') as [string, string]
  for (let i = 0; i < REVOKED_TOKENS_MAX + 50; i++) {
    verifier.revokeAccessToken(`${header}.${payload}.${Buffer.from(`signature-${i}`).toString('base64url')}`)
  }
  assert.equal(verifier.revokedTokenCount, REVOKED_TOKENS_MAX)
})
