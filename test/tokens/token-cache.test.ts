import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { MAX_TOKEN_LENGTH } from '../../lib/tokens/jws.js'
import { cacheIndex, interner, keptClaims, VerifiedTokenCache, type VerifiedAccessToken } from '../../lib/tokens/token-cache.js'
import { CognitoTokenVerifier, DEFAULT_TOKEN_CACHE_SIZE, REVOKED_TOKENS_MAX } from '../../lib/tokens/verifier.js'
import { createTokenIssuer, type LocalCognito } from '../../lib/testing/index.js'
import { tailIndex } from '../../lib/util/expiring-cache.js'
import { CLIENT_IDS, OTHER_CLIENT_ID, startIdp } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import { unsignedToken } from '../helpers/jwt.js'

// The verified-token cache and the sign-out list (token-cache.ts): first through the verifier that owns them, as
// the guards use them, then directly.

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
  const verifier = new CognitoTokenVerifier([{ issuer: pool.issuer, userPoolId: pool.userPoolId, clientIds: [CLIENT_IDS.public], keys }], {
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
  const clock = manualClock()
  const keys = new JwksKeyStore(http, idp.jwksUri, 0, clock.now)
  const verifier = new CognitoTokenVerifier([{ issuer: idp.issuer, userPoolId: idp.userPoolId, clientIds: [CLIENT_IDS.public], keys }], { clientId: CLIENT_IDS.public, clockTolerance: TOLERANCE })
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  idp.setJwksAvailable(false)
  await assert.rejects(verifier.verifyAccessToken(token), { code: 'FST_COGNITO_IDP_UNAVAILABLE' })
  idp.setJwksAvailable(true)
  clock.advance(1.1) // the store retries a failed fetch after at most 1 s (its cooldown, 0 here, when shorter)
  assert.equal((await verifier.verifyAccessToken(token)).username, 'alice')
})

test('invalid tokens are never cached, whatever the reason', async (t) => {
  const { verifier, idp } = await setup(t)
  const bad = [
    await idp.mintAccessToken('alice', OTHER_CLIENT_ID),
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

test('the verifier caches DEFAULT_TOKEN_CACHE_SIZE tokens unless told', () => {
  assert.equal(DEFAULT_TOKEN_CACHE_SIZE, 10_000)
})

// Directly: a VerifiedTokenCache on static keys (no fetch), with a clock the test moves.

async function directCache (t: TestContext, maxEntries = 10): Promise<{ cache: VerifiedTokenCache, keys: JwksKeyStore, kid: string, advance: (seconds: number) => void, now: () => number }> {
  const issuer = await createTokenIssuer()
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, 'https://unused.invalid/jwks.json', 0, Date.now, issuer.jwks)
  const clock = manualClock()
  const cache = new VerifiedTokenCache([keys], { maxEntries, clockTolerance: TOLERANCE, now: clock.seconds })
  return { cache, keys, kid: issuer.jwks.keys[0]?.kid as string, advance: clock.advance, now: clock.seconds }
}

/** An entry for `token` verified by the key `keys` holds for `kid`. */
function entry (keys: JwksKeyStore, kid: string, token: string): VerifiedAccessToken {
  const key = keys.cachedKey(kid)
  assert.ok(key)
  return { token, claims: Object.freeze({ sub: 'user-1' }) as never, kid, key, keys }
}

test('cacheIndex is the tail index of the last 8 characters', () => {
  assert.equal(cacheIndex('header.payload.signature-ABCDEFGH'), tailIndex('header.payload.signature-ABCDEFGH', 8))
  assert.equal(cacheIndex('a.b.xxABCDEFGH'), cacheIndex('c.d.yyABCDEFGH'), 'an index, not an identity: a hit compares the whole token')
})

test('interner: one value per distinct string, for any number of them', () => {
  const intern = interner()
  assert.equal(intern('openid email'), 'openid email')
  for (let i = 0; i < 600; i++) assert.equal(intern(`scope-${i}`), `scope-${i}`)
  assert.equal(intern('openid email'), 'openid email', 'still right after the table started over')
})

test('keptClaims: token_use set to the checked value, iss, client_id and scope interned, the whole deep-frozen', () => {
  const intern = interner()
  const claims: Record<string, unknown> = { sub: 'u', iss: 'https://issuer', token_use: 'access', client_id: 'c', scope: 'openid', 'cognito:groups': ['admin'] }
  const kept = keptClaims(claims, intern)
  assert.equal(kept, claims, 'the same object, frozen in place')
  assert.deepEqual({ ...kept }, { sub: 'u', iss: 'https://issuer', token_use: 'access', client_id: 'c', scope: 'openid', 'cognito:groups': ['admin'] })
  assert.ok(Object.isFrozen(kept) && Object.isFrozen(kept['cognito:groups']))
  const withoutScope = keptClaims({ sub: 'u', scope: 42 }, intern)
  assert.equal(withoutScope.scope, 42, 'a scope that is not a string is left alone (the verifier refuses it before)')
  assert.equal(withoutScope.token_use, 'access')
  assert.equal('iss' in withoutScope, false, 'a claim that is absent stays absent')
})

test('VerifiedTokenCache: an entry is found by exactly its token, until exp + tolerance', async (t) => {
  const { cache, keys, kid, advance, now } = await directCache(t)
  const token = unsignedToken({ sub: 'user-1' })
  const added = entry(keys, kid, token)
  cache.add(added, now() + 60)
  assert.equal(cache.size, 1)
  assert.equal(cache.get(token), added)
  assert.equal(cache.get(`${token}x`), undefined)
  assert.equal(cache.get(token.slice(0, -1)), undefined)
  assert.equal(cache.get('x'.repeat(MAX_TOKEN_LENGTH + 1)), undefined)
  advance(60 + TOLERANCE - 0.001)
  assert.equal(cache.get(token), added)
  advance(0.001)
  assert.equal(cache.get(token), undefined)
  assert.equal(cache.size, 0)
})

test('VerifiedTokenCache keeps an entry only while its key is the store\'s key for its kid, and nothing already expired', async (t) => {
  const { cache, keys, kid, now } = await directCache(t)
  const other = await createTokenIssuer()
  const otherKeys = new JwksKeyStore(new CognitoHttpClient(1000), 'https://unused.invalid/jwks.json', 0, Date.now, { keys: [{ ...other.jwks.keys[1], kid }] })
  // Claims to come from the pool's store, with a key that store does not hold for this kid.
  const foreign = { ...entry(otherKeys, kid, unsignedToken({ sub: 'a' })), keys }
  cache.add(foreign, now() + 60)
  assert.equal(cache.size, 0, 'a key the store does not hold for this kid')
  cache.add(entry(keys, kid, unsignedToken({ sub: 'b' })), now() - TOLERANCE)
  assert.equal(cache.size, 0, 'expired beyond the tolerance')
  cache.add(entry(keys, kid, unsignedToken({ sub: 'c' })), now() - TOLERANCE + 1)
  assert.equal(cache.size, 1, 'expired but within the tolerance')
})

test('VerifiedTokenCache.revoke: dropped, refused by signature (any encoding of it) until exp + tolerance', async (t) => {
  const { cache, keys, kid, advance, now } = await directCache(t)
  const exp = Math.floor(now()) + 120
  const token = unsignedToken({ sub: 'user-1', exp })
  const signature = token.split('.')[2] as string
  cache.add(entry(keys, kid, token), exp)
  assert.equal(cache.isRevoked(signature, true, undefined), false, 'nothing is revoked yet')
  cache.revoke(token)
  assert.equal(cache.get(token), undefined)
  assert.equal(cache.size, 0)
  assert.equal(cache.revokedCount, 1)
  assert.equal(cache.isRevoked(signature, true, undefined), true)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const variant = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1) as string) | 0b1111] as string}`
  assert.notEqual(variant, signature)
  assert.equal(cache.isRevoked(variant, false, undefined), true, 'a non-canonical encoding of the same bytes')
  advance(exp + TOLERANCE - now() - 0.001)
  assert.equal(cache.isRevoked(signature, true, undefined), true)
  advance(0.001)
  assert.equal(cache.isRevoked(signature, true, undefined), false)
  assert.equal(cache.revokedCount, 0)
})

test('VerifiedTokenCache.revoke remembers a token at most a day, also one without exp', async (t) => {
  const { cache, advance, now } = await directCache(t)
  const lasting = unsignedToken({ sub: 'a', exp: Math.floor(now()) + 7 * 24 * 3600 })
  const noExp = unsignedToken({ sub: 'b' })
  const badExp = unsignedToken({ sub: 'c', exp: 'tomorrow' })
  for (const token of [lasting, noExp, badExp]) cache.revoke(token)
  assert.equal(cache.revokedCount, 3)
  advance(24 * 3600 + TOLERANCE - 1)
  assert.equal(cache.isRevoked(lasting.split('.')[2] as string, true, undefined), true)
  advance(2)
  assert.equal(cache.isRevoked(lasting.split('.')[2] as string, true, undefined), false)
  assert.equal(cache.revokedCount, 0)
})

test('VerifiedTokenCache.revoke ignores what is not a compact JWS', async (t) => {
  const { cache } = await directCache(t)
  for (const value of [undefined, 42, '', 'a.b', 'a.b.c.d', 'a.b.!!', 'a.b.', `a.b.${'A'.repeat(MAX_TOKEN_LENGTH)}`]) cache.revoke(value as string)
  assert.equal(cache.revokedCount, 0)
})

test('VerifiedTokenCache: maxEntries 0 keeps nothing, and sign-outs still work', async (t) => {
  const { cache, keys, kid, now } = await directCache(t, 0)
  const token = unsignedToken({ sub: 'user-1', exp: Math.floor(now()) + 60 })
  cache.add(entry(keys, kid, token), now() + 60)
  assert.equal(cache.size, 0)
  cache.revoke(token)
  assert.equal(cache.isRevoked(token.split('.')[2] as string, true, undefined), true)
})

test('VerifiedTokenCache.revokeOrigin: refused by origin_jti or by jti, its entries dropped, until the given time', async (t) => {
  const { cache, keys, kid, advance, now } = await directCache(t)
  const withClaims = (claims: Record<string, unknown>): VerifiedAccessToken => {
    const token = unsignedToken({ sub: 'user-1', ...claims })
    return { ...entry(keys, kid, token), claims: Object.freeze({ sub: 'user-1', ...claims }) as never }
  }
  const ofSignIn = withClaims({ origin_jti: 'o-1', jti: 'j-1' })
  const byJti = withClaims({ jti: 'o-1' })
  const kept = withClaims({ origin_jti: 'o-2', jti: 'j-2' })
  for (const added of [ofSignIn, byJti, kept]) cache.add(added, now() + 600)
  assert.equal(cache.size, 3)
  assert.equal(cache.isRevoked('sig', true, 'o-1', 'j-1'), false, 'nothing revoked yet')

  const until = now() + 120
  cache.revokeOrigin('o-1', until)
  assert.equal(cache.size, 1, 'the entries of that origin_jti, and of that jti, are dropped')
  assert.equal(cache.get(kept.token), kept)
  assert.equal(cache.isRevoked('sig', true, 'o-1', undefined), true, 'by origin_jti')
  assert.equal(cache.isRevoked('sig', true, undefined, 'o-1'), true, 'by jti')
  assert.equal(cache.isRevoked('sig', true, 'o-2', 'j-2'), false)
  assert.equal(cache.isRevoked('sig', true, 42, ['o-1']), false, 'claims that are not strings name nothing')
  assert.equal(cache.revokedCount, 0, 'no signature was revoked')

  advance(until - now() - 0.001)
  assert.equal(cache.isRevoked('sig', true, 'o-1', undefined), true)
  advance(0.001)
  assert.equal(cache.isRevoked('sig', true, 'o-1', undefined), false, 'until the given time, not a day')
})

test('VerifiedTokenCache.revokeOrigin without a time: a day and the clock tolerance', async (t) => {
  const { cache, advance } = await directCache(t)
  cache.revokeOrigin('o-1')
  advance(24 * 3600 + TOLERANCE - 0.001)
  assert.equal(cache.isRevoked('sig', true, undefined, 'o-1'), true)
  advance(0.001)
  assert.equal(cache.isRevoked('sig', true, undefined, 'o-1'), false)
})
