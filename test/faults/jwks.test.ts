import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { bearer, buildApp, CLIENT_IDS, startIdp } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'

// The key store's retry after a failed fetch and its cool-down follow the plugin's clock (`now`): the tests that
// wait for them move a clock the IdP and the app share instead of sleeping.

test('JWKS down at first use: 503 FST_COGNITO_IDP_UNAVAILABLE, and it recovers by itself', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  idp.setJwksAvailable(false)
  const app = await buildApp(t, idp, 'public', { prefetchJwks: false, now: clock.now })
  app.log.level = 'silent'
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const down = await app.inject({ url: '/me', headers: bearer(token) })
  assert.equal(down.statusCode, 503)
  assert.equal(down.json().code, 'FST_COGNITO_IDP_UNAVAILABLE')
  idp.setJwksAvailable(true)
  clock.advance(1.1)
  const back = await app.inject({ url: '/me', headers: bearer(token) })
  assert.equal(back.statusCode, 200)
})

test('JWKS down at start-up is not fatal: the app starts and fetches on first use', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  idp.setJwksAvailable(false)
  const app = await buildApp(t, idp, 'public', { now: clock.now })
  app.log.level = 'silent'
  idp.setJwksAvailable(true)
  clock.advance(1.1)
  assert.equal((await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public)) })).statusCode, 200)
})

test('JWKS prefetched at onReady: the first request does not fetch it', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const fetchedAtStart = idp.requests.jwks
  assert.equal(fetchedAtStart, 1)
  assert.equal((await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('bob', CLIENT_IDS.public)) })).statusCode, 200)
  assert.equal(idp.requests.jwks, 1)
})

test('JWKS down after the keys were cached: guarded routes keep working', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  idp.setJwksAvailable(false)
  for (let i = 0; i < 5; i++) {
    const response = await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public)) })
    assert.equal(response.statusCode, 200)
  }
})

test('key rotation: a token signed with a new kid causes exactly one JWKS refetch', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { jwksCooldown: 0 })
  assert.equal(idp.requests.jwks, 1)
  await idp.rotateKeys()
  const token = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  const results = await Promise.all(Array.from({ length: 20 }, async () => await app.inject({ url: '/me', headers: bearer(token) })))
  assert.ok(results.every((response) => response.statusCode === 200))
  assert.equal(idp.requests.jwks, 2, 'concurrent requests share one fetch')
  assert.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  assert.equal(idp.requests.jwks, 2)
})

test('a flood of 1,000 tokens with random unknown kids causes at most one fetch per cooldown window', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = await buildApp(t, idp, 'public', { jwksCooldown: 60_000, now: clock.now })
  app.log.level = 'silent'
  const before = idp.requests.jwks
  let refused = 0
  for (let i = 0; i < 1000; i++) {
    const token = await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: randomBytes(12).toString('base64') } })
    const response = await app.inject({ url: '/me', headers: bearer(token) })
    if (response.statusCode === 401) refused++
  }
  assert.equal(refused, 1000)
  assert.ok(idp.requests.jwks - before <= 1, `fetched ${idp.requests.jwks - before} times`)
})

test('keys removed from the JWKS stop verifying after the next fetch', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { jwksCooldown: 0 })
  const oldToken = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  assert.equal((await app.inject({ url: '/me', headers: bearer(oldToken) })).statusCode, 200)
  await idp.rotateKeys()
  const newToken = await idp.mintAccessToken('alice', CLIENT_IDS.public)
  assert.equal((await app.inject({ url: '/me', headers: bearer(newToken) })).statusCode, 200)
  const afterRotation = await app.inject({ url: '/me', headers: bearer(oldToken) })
  assert.equal(afterRotation.statusCode, 401, 'the old kid is gone from the JWKS')
})

test('the cool-down follows the plugin\'s clock: once it has passed, unknown kids may cause one more fetch', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const app = await buildApp(t, idp, 'public', { jwksCooldown: 60_000, now: clock.now })
  app.log.level = 'silent'
  const unknownKid = async (): Promise<number> => (await app.inject({ url: '/me', headers: bearer(await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: randomBytes(12).toString('base64url') } })) })).statusCode
  assert.equal(idp.requests.jwks, 1, 'the prefetch')
  assert.equal(await unknownKid(), 401)
  clock.advance(59.9)
  assert.equal(await unknownKid(), 401)
  assert.equal(idp.requests.jwks, 1, 'inside the cool-down: no fetch')
  clock.advance(0.1)
  for (let i = 0; i < 5; i++) assert.equal(await unknownKid(), 401)
  assert.equal(idp.requests.jwks, 2, 'one fetch for the next window')
})
