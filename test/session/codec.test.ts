import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { CognitoInvalidOptionError } from '../../lib/errors.js'
import { registerJsonCookieCodec, SessionCookieCipher, type JsonCookieCodec } from '../../lib/session/codec.js'
import { buildApp, flipCharacter, login, SESSION_SECRET, startIdp } from '../helpers/app.js'

// The session cookie is sealed by SessionCookieCipher (bytes, the sealing time inside the box); the login
// transactions go through registerJsonCookieCodec (JSON, @fastify/secure-session). Each test covers both where
// both have the property.

const SESSION_MAX_AGE = 3600
const LOGIN_EXPIRY = 600
const NOW = 2_000_000_000

function cipherOf (keys: Buffer[]): SessionCookieCipher {
  return new SessionCookieCipher(keys, SESSION_MAX_AGE)
}

function bytes (data: unknown): Buffer {
  return Buffer.from(JSON.stringify(data), 'utf8')
}

function parsed (opened: { payload: Buffer } | undefined): unknown {
  return opened === undefined ? undefined : JSON.parse(opened.payload.toString('utf8'))
}

/** A JSON codec on an app of its own, and a request to decode with (the codec logs through it). */
async function codecOn (t: TestContext, keys: Buffer[]): Promise<{ codec: JsonCookieCodec, request: FastifyRequest, app: FastifyInstance }> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  const codec = await registerJsonCookieCodec(app, keys, LOGIN_EXPIRY)
  let request: FastifyRequest | undefined
  app.get('/', async (req) => { request = req; return {} })
  await app.inject({ url: '/' })
  assert.ok(request)
  return { codec, request, app }
}

test('seal then open gives the bytes back, with when they were sealed; the JSON codec gives the data back', async (t) => {
  const cipher = cipherOf([randomBytes(32)])
  const data = { z: 'packed-session', n: 1, nested: { list: [1, 'two'] } }
  const opened = cipher.open(cipher.seal(bytes(data), NOW + 0.7), NOW + 10)
  assert.deepEqual(parsed(opened), data)
  assert.equal(opened?.sealedAt, NOW, 'whole seconds of the time it was sealed')
  const { codec, request } = await codecOn(t, [randomBytes(32)])
  assert.deepEqual(codec.decode(codec.encode(data), request), data)
  assert.deepEqual(codec.decode(codec.encode({ transactions: [] }), request), { transactions: [] })
})

test('values are cookie-safe and never show the data: base64url for the session, base64url with one dot for logins', async (t) => {
  const cipher = cipherOf([randomBytes(32)])
  const { codec } = await codecOn(t, [randomBytes(32)])
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(24).toString('hex')
    const sealed = cipher.seal(bytes({ secret }), NOW)
    const encoded = codec.encode({ secret })
    assert.match(sealed, /^[A-Za-z0-9_-]+$/)
    assert.match(encoded, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    for (const value of [sealed, encoded]) {
      assert.equal(value.includes(secret), false)
      assert.equal(encodeURIComponent(value), value, 'no percent-encoding needed')
    }
  }
})

test('each encoding is new (a random nonce): the same data never gives the same cookie', async (t) => {
  const cipher = cipherOf([randomBytes(32)])
  assert.notEqual(cipher.seal(bytes({ a: 1 }), NOW), cipher.seal(bytes({ a: 1 }), NOW))
  const { codec } = await codecOn(t, [randomBytes(32)])
  assert.notEqual(codec.encode({ a: 1 }), codec.encode({ a: 1 }))
})

test('the caller\'s object is copied, not kept', async (t) => {
  const cipher = cipherOf([randomBytes(32)])
  const payload = bytes({ a: 1 })
  const sealed = cipher.seal(payload, NOW)
  payload.fill(0)
  assert.deepEqual(parsed(cipher.open(sealed, NOW)), { a: 1 })
  const { codec, request } = await codecOn(t, [randomBytes(32)])
  const data = { a: 1 }
  const value = codec.encode(data)
  data.a = 2
  assert.deepEqual(codec.decode(value, request), { a: 1 })
  assert.deepEqual(data, { a: 2 })
})

test('tampered, truncated, foreign and malformed values open to undefined, never throw', async (t) => {
  const cipher = cipherOf([randomBytes(32)])
  const sealed = cipher.seal(bytes({ a: 1 }), NOW)
  const foreign = cipherOf([randomBytes(32)]).seal(bytes({ a: 1 }), NOW)
  for (const bad of [flipCharacter(sealed, 5), flipCharacter(sealed, sealed.length - 3), sealed.slice(0, -4), sealed.slice(4), `${sealed}.x`, `${sealed}=`, '', 'a', 'a'.repeat(40), foreign, '%%%']) {
    assert.equal(cipher.open(bad, NOW), undefined, bad.slice(0, 40))
  }

  const { codec, request } = await codecOn(t, [randomBytes(32)])
  const { codec: other } = await codecOn(t, [randomBytes(32)])
  const value = codec.encode({ a: 1 })
  const [box, nonce] = value.split('.') as [string, string]
  const flipped = `${flipCharacter(box, 5)}.${nonce}`
  for (const bad of [flipped, `${box.slice(0, -4)}.${nonce}`, `${box}.${nonce.slice(0, -2)}`, box, '', '.', 'a.b', `${nonce}.${box}`, other.encode({ a: 1 }), '%%%.%%%']) {
    assert.equal(codec.decode(bad, request), undefined, bad.slice(0, 40))
  }
})

test('a sealed session cookie is valid from its sealing time (a minute early at most) to maxAge (and a minute) after it', () => {
  const cipher = cipherOf([randomBytes(32)])
  const sealed = cipher.seal(bytes({ a: 1 }), NOW)
  assert.ok(cipher.open(sealed, NOW - 60) !== undefined, 'a clock a minute behind')
  assert.equal(cipher.open(sealed, NOW - 61), undefined, 'from the future')
  assert.ok(cipher.open(sealed, NOW + SESSION_MAX_AGE + 59) !== undefined)
  assert.equal(cipher.open(sealed, NOW + SESSION_MAX_AGE + 60), undefined, 'expired')
})

test('the session cipher takes 32-byte keys only, at least one', () => {
  for (const keys of [[], [randomBytes(16)], [randomBytes(32), randomBytes(31)]]) {
    assert.throws(() => cipherOf(keys), CognitoInvalidOptionError)
  }
})

test('key rotation: the first key encrypts, every key decrypts', async (t) => {
  const oldKey = randomBytes(32)
  const newKey = randomBytes(32)
  const [before, rotated, after] = [cipherOf([oldKey]), cipherOf([newKey, oldKey]), cipherOf([newKey])]
  const old = before.seal(bytes({ a: 'old' }), NOW)
  assert.deepEqual(parsed(rotated.open(old, NOW)), { a: 'old' })
  const fresh = rotated.seal(bytes({ a: 'new' }), NOW)
  assert.equal(before.open(fresh, NOW), undefined, 'new cookies are under the new key')
  assert.deepEqual(parsed(after.open(fresh, NOW)), { a: 'new' })
  assert.equal(after.open(old, NOW), undefined, 'once the old key is dropped, its cookies are no more')

  const { codec: jsonBefore, request } = await codecOn(t, [oldKey])
  const { codec: jsonRotated } = await codecOn(t, [newKey, oldKey])
  const { codec: jsonAfter } = await codecOn(t, [newKey])
  const oldLogin = jsonBefore.encode({ a: 'old' })
  assert.deepEqual(jsonRotated.decode(oldLogin, request), { a: 'old' })
  const freshLogin = jsonRotated.encode({ a: 'new' })
  assert.equal(jsonBefore.decode(freshLogin, request), undefined)
  assert.deepEqual(jsonAfter.decode(freshLogin, request), { a: 'new' })
  assert.equal(jsonAfter.decode(oldLogin, request), undefined)
})

test('the JSON codec leaves the app alone: no request.session, no cookie hooks, its own secure-session untouched', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await registerJsonCookieCodec(app, [randomBytes(32)], LOGIN_EXPIRY)
  app.get('/', async (request) => ({ session: (request as { session?: unknown }).session ?? null, cookies: (request as { cookies?: unknown }).cookies ?? null }))
  const response = await app.inject({ url: '/', headers: { cookie: 'fastifyCognitoLogin=garbage; session=x' } })
  assert.deepEqual(response.json(), { session: null, cookies: null })
  assert.equal(response.headers['set-cookie'], undefined)
})

test('sessionSecret rotation: a session made with the old secret still works, new sessions use the new one', async (t) => {
  const idp = await startIdp(t)
  const oldApp = await buildApp(t, idp)
  const { jar } = await login(oldApp, idp)
  const rotated = await buildApp(t, idp, 'public', { sessionSecret: ['the-new-secret-the-new-secret-the-new-secret', SESSION_SECRET] })
  assert.equal((await rotated.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const refreshed = await rotated.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  jar.store(refreshed)
  assert.equal((await oldApp.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401, 'the new cookie is under the new key')
  assert.equal((await rotated.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
})
