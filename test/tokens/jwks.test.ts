import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { JwksKeyStore, parseKeySet } from '../../lib/tokens/jwks.js'
import { startIdp } from '../helpers/app.js'
import { manualClock, type ManualClock } from '../helpers/clock.js'
import { sendJson, startHttpServer } from '../helpers/http-server.js'
import { rsaTestKey } from '../helpers/jwt.js'

const K1 = rsaTestKey('k1')
const K2 = rsaTestKey('k2')
const K3 = rsaTestKey('k3')

interface JwksEndpoint {
  uri: string
  /** What the endpoint answers next: a document (200) or a status with no keys. */
  answer: { status: number, body: unknown }
  fetches: () => number
}

/** A JWKS endpoint the test controls, on loopback. */
async function jwksEndpoint (t: TestContext, keys = [K1.jwk, K2.jwk]): Promise<JwksEndpoint> {
  const endpoint: JwksEndpoint = { uri: '', answer: { status: 200, body: { keys } }, fetches: () => server.requests.length }
  const server = await startHttpServer(t, (_request, response) => { sendJson(response, endpoint.answer.status, endpoint.answer.body) })
  endpoint.uri = `${server.origin}/pool/.well-known/jwks.json`
  return endpoint
}

function keyStore (t: TestContext, uri: string, cooldown: number, clock: ManualClock = manualClock()): JwksKeyStore {
  const http = new CognitoHttpClient(2000)
  t.after(async () => { await http.close() })
  return new JwksKeyStore(http, uri, cooldown, clock.now)
}

test('a refetch that finds the same keys keeps the same KeyObjects and generation; a rotation bumps it', async (t) => {
  const idp = await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, idp.jwksUri, 0)
  await keys.refresh()
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: Array<{ kid: string }> }
  const kids = jwks.keys.map((key) => key.kid)
  const before = kids.map((kid) => keys.cachedKey(kid))
  assert.ok(before.every((key) => key !== undefined))
  const generation = keys.generation

  await keys.refresh()
  assert.deepEqual(kids.map((kid) => keys.cachedKey(kid)), before, 'the very same KeyObjects')
  assert.equal(keys.generation, generation)

  await idp.rotateKeys()
  await keys.refresh()
  assert.ok(keys.generation > generation)
  assert.ok(kids.every((kid) => keys.cachedKey(kid) === undefined), 'the old kids are gone')
})

test('static keys (jwks option) have a fixed generation', () => {
  const modulus = randomBytes(256)
  modulus[0] = (modulus[0] as number) | 0x80 // a full 2048-bit modulus
  modulus[255] = (modulus[255] as number) | 1
  const keys = new JwksKeyStore(new CognitoHttpClient(1000), 'https://unused.example.com/jwks.json', 0, Date.now, {
    keys: [{ kty: 'RSA', kid: 'k', alg: 'RS256', use: 'sig', n: modulus.toString('base64url'), e: 'AQAB' }]
  })
  assert.equal(keys.generation, 0)
  assert.ok(keys.cachedKey('k'))
})

test('parseKeySet keeps the RS256 signing keys of 2048 bits or more, by kid', () => {
  const small = rsaTestKey('small', 1024)
  const keys = parseKeySet({
    keys: [
      K1.jwk,
      { ...K2.jwk, alg: undefined, use: undefined },
      { ...K3.jwk, kid: 'wrong-alg', alg: 'RS512' },
      { ...K3.jwk, kid: 'encryption', use: 'enc' },
      { ...K3.jwk, kid: '' },
      { ...K3.jwk, kid: 7 },
      { ...K3.jwk, kid: 'no-n', n: undefined },
      { ...K3.jwk, kid: 'bad-n', n: '!!!' },
      { ...K3.jwk, kid: 'no-e', e: 42 },
      small.jwk,
      { kty: 'EC', kid: 'ec', crv: 'P-256', x: 'AA', y: 'AA' },
      { kty: 'oct', kid: 'oct', k: 'c2VjcmV0' },
      null,
      'k1',
      42
    ]
  })
  assert.deepEqual([...keys.keys()], ['k1', 'k2'])
  assert.equal(keys.get('k1')?.asymmetricKeyType, 'rsa')
  assert.ok(keys.get('k1')?.equals(K1.publicKey))
})

test('parseKeySet throws a bad-response error for a document without a usable key', () => {
  for (const document of [null, undefined, [], {}, { keys: {} }, { keys: 'k1' }]) {
    assert.throws(() => parseKeySet(document), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'the JWKS has no "keys" array' }, JSON.stringify(document))
  }
  for (const document of [{ keys: [] }, { keys: [rsaTestKey('small', 1024).jwk] }, { keys: [{ ...K1.jwk, alg: 'HS256' }] }]) {
    assert.throws(() => parseKeySet(document), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: /no RS256 signing key of 2048 bits/ })
  }
})

test('getKey fetches once for a kid it does not hold, and then answers from memory', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const keys = keyStore(t, endpoint.uri, 30_000)
  assert.equal(keys.cachedKey('k1'), undefined)
  const key = await keys.getKey('k1')
  assert.ok(key.equals(K1.publicKey))
  assert.equal(await keys.getKey('k2'), keys.cachedKey('k2'))
  assert.equal(keys.cachedKey('k1'), key)
  assert.equal(keys.fetchCount, 1)
  assert.equal(endpoint.fetches(), 1)
})

test('concurrent askers share the fetch in flight', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const keys = keyStore(t, endpoint.uri, 30_000)
  const found = await Promise.all([keys.getKey('k1'), keys.getKey('k2'), keys.getKey('k1'), keys.refresh().then(() => keys.getKey('k2'))])
  assert.equal(found.length, 4)
  assert.equal(endpoint.fetches(), 1)
})

test('an unknown kid causes at most one fetch per cooldown; the clock moving past it allows the next', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const clock = manualClock()
  const keys = keyStore(t, endpoint.uri, 30_000, clock)
  await keys.refresh()
  await assert.rejects(keys.getKey('rotated'), { code: 'FST_COGNITO_INVALID_TOKEN', message: 'Token is signed by an unknown key' })
  assert.equal(endpoint.fetches(), 1, 'the refresh itself counts as the window\'s fetch')
  clock.advance(29.9)
  for (let i = 0; i < 10; i++) await assert.rejects(keys.getKey(`unknown-${i}`), { message: 'Token is signed by an unknown key' })
  assert.equal(endpoint.fetches(), 1, 'no fetch inside the cooldown')

  endpoint.answer = { status: 200, body: { keys: [K1.jwk, K2.jwk, K3.jwk] } }
  clock.advance(0.1)
  assert.ok((await keys.getKey('k3')).equals(K3.publicKey), 'the rotated key is found once the cooldown is over')
  assert.equal(endpoint.fetches(), 2)
  assert.equal(keys.generation, 0, 'adding a key is no rotation')
})

test('a fetch that removes or replaces a key bumps the generation and drops the old key', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const keys = keyStore(t, endpoint.uri, 0)
  await keys.refresh()
  const k2 = keys.cachedKey('k2')
  endpoint.answer = { status: 200, body: { keys: [K2.jwk] } }
  await keys.refresh()
  assert.equal(keys.generation, 1)
  assert.equal(keys.cachedKey('k1'), undefined)
  assert.equal(keys.cachedKey('k2'), k2, 'an unchanged JWK keeps its KeyObject')
  endpoint.answer = { status: 200, body: { keys: [{ ...K3.jwk, kid: 'k2' }] } }
  await keys.refresh()
  assert.equal(keys.generation, 2, 'the same kid with another key is a replacement')
  assert.ok(keys.cachedKey('k2')?.equals(K3.publicKey))
})

test('failed fetches reject IdP-unavailable and keep the keys already held', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const keys = keyStore(t, endpoint.uri, 0)
  await keys.refresh()
  for (const answer of [
    { status: 503, body: { message: 'down' } },
    { status: 200, body: 'not json' },
    { status: 200, body: [] },
    { status: 200, body: { keys: [] } }
  ]) {
    endpoint.answer = answer
    await assert.rejects(keys.refresh(), (error: { code?: string, statusCode?: number, message?: string, cause?: { code?: string } }) => {
      assert.equal(error.code, 'FST_COGNITO_IDP_UNAVAILABLE')
      assert.equal(error.statusCode, 503)
      assert.equal(error.message, 'The user pool signing keys (JWKS) could not be fetched')
      assert.equal(error.cause?.code, 'FST_COGNITO_IDP_BAD_RESPONSE', 'the cause says what was wrong')
      return true
    }, JSON.stringify(answer))
    assert.ok(keys.cachedKey('k1'), 'the keys held still verify')
  }
  assert.equal(keys.generation, 0)
})

test('with no key at all, a failed fetch is retried after 1 s, not after the whole cooldown', async (t) => {
  const endpoint = await jwksEndpoint(t)
  endpoint.answer = { status: 503, body: {} }
  const clock = manualClock()
  const keys = keyStore(t, endpoint.uri, 30_000, clock)
  await assert.rejects(keys.getKey('k1'), { code: 'FST_COGNITO_IDP_UNAVAILABLE' })
  clock.advance(0.9)
  await assert.rejects(keys.getKey('k1'), { code: 'FST_COGNITO_IDP_UNAVAILABLE', message: 'The user pool signing keys (JWKS) are not available' })
  assert.equal(endpoint.fetches(), 1, 'no fetch within the second')
  endpoint.answer = { status: 200, body: { keys: [K1.jwk] } }
  clock.advance(0.1)
  assert.ok(await keys.getKey('k1'))
  assert.equal(endpoint.fetches(), 2)
})

test('a cooldown shorter than a second also shortens the retry after a failure', async (t) => {
  const endpoint = await jwksEndpoint(t)
  endpoint.answer = { status: 503, body: {} }
  const clock = manualClock()
  const keys = keyStore(t, endpoint.uri, 200, clock)
  await assert.rejects(keys.getKey('k1'), { code: 'FST_COGNITO_IDP_UNAVAILABLE' })
  endpoint.answer = { status: 200, body: { keys: [K1.jwk] } }
  clock.advance(0.2)
  assert.ok(await keys.getKey('k1'))
})

test('an unreachable JWKS endpoint is IdP-unavailable too', async (t) => {
  const keys = keyStore(t, 'http://127.0.0.1:9/jwks.json', 0)
  await assert.rejects(keys.getKey('k1'), (error: { code?: string, cause?: { code?: string } }) => {
    assert.equal(error.code, 'FST_COGNITO_IDP_UNAVAILABLE')
    assert.equal(error.cause?.code, 'FST_COGNITO_IDP_UNAVAILABLE')
    return true
  })
  assert.equal(keys.fetchCount, 1)
})

test('static keys: never a fetch; an unknown kid is an invalid token at once', async (t) => {
  const endpoint = await jwksEndpoint(t)
  const http = new CognitoHttpClient(1000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, endpoint.uri, 0, Date.now, { keys: [K1.jwk] })
  assert.ok((await keys.getKey('k1')).equals(K1.publicKey))
  await assert.rejects(keys.getKey('k2'), { code: 'FST_COGNITO_INVALID_TOKEN', message: 'Token is signed by an unknown key' })
  await keys.refresh()
  assert.equal(keys.fetchCount, 0)
  assert.equal(endpoint.fetches(), 0)
  assert.throws(() => new JwksKeyStore(http, endpoint.uri, 0, Date.now, { keys: [] }), { code: 'FST_COGNITO_IDP_BAD_RESPONSE' })
})

test('the JWKS request asks for JSON with a GET to exactly jwksUri', async (t) => {
  const requests: Array<{ method: string, url: string, accept: string | undefined }> = []
  const server = await startHttpServer(t, (request, response) => {
    requests.push({ method: request.method, url: request.url, accept: request.headers.accept })
    sendJson(response, 200, { keys: [K1.jwk] })
  })
  const keys = keyStore(t, `${server.origin}/eu-west-1_Pool/.well-known/jwks.json`, 0)
  await keys.refresh()
  assert.deepEqual(requests, [{ method: 'GET', url: '/eu-west-1_Pool/.well-known/jwks.json', accept: 'application/json' }])
})
