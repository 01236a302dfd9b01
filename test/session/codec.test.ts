import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { registerCodec, type SessionCodec } from '../../lib/session/codec.js'
import { buildApp, login, SESSION_SECRET, startIdp } from '../helpers/app.js'

const EXPIRY = { session: 3600, login: 600 }

/** A codec on an app of its own, and a request to decode with (the codec logs through it). */
async function codecOn (t: TestContext, keys: Buffer[]): Promise<{ codec: SessionCodec, request: FastifyRequest, app: FastifyInstance }> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  const codec = await registerCodec(app, keys, EXPIRY)
  let request: FastifyRequest | undefined
  app.get('/', async (req) => { request = req; return {} })
  await app.inject({ url: '/' })
  assert.ok(request)
  return { codec, request, app }
}

test('encode then decode gives the data back, with when it was encrypted', async (t) => {
  const { codec, request } = await codecOn(t, [randomBytes(32)])
  const before = Math.round(Date.now() / 1000)
  const encoded = codec.encode({ z: 'packed-session', n: 1, nested: { list: [1, 'two'] } }, 'session')
  assert.equal(typeof encoded.issuedAt, 'number')
  assert.ok(Math.abs((encoded.issuedAt as number) - before) <= 1)
  const decoded = codec.decode(encoded.value, request, 'session')
  assert.deepEqual(decoded?.data, { z: 'packed-session', n: 1, nested: { list: [1, 'two'] } })
  assert.equal(decoded?.issuedAt, encoded.issuedAt)
  assert.deepEqual(codec.decode(codec.encode({ transactions: [] }, 'login').value, request, 'login')?.data, { transactions: [] })
})

test('values are cookie-safe (base64url, one dot) and never show the data', async (t) => {
  const { codec } = await codecOn(t, [randomBytes(32)])
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(24).toString('hex')
    const { value } = codec.encode({ secret }, i % 2 === 0 ? 'session' : 'login')
    assert.match(value, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    assert.equal(value.includes(secret), false)
    assert.equal(encodeURIComponent(value), value, 'no percent-encoding needed')
  }
})

test('each encoding is new (a random nonce): the same data never gives the same cookie', async (t) => {
  const { codec } = await codecOn(t, [randomBytes(32)])
  assert.notEqual(codec.encode({ a: 1 }, 'session').value, codec.encode({ a: 1 }, 'session').value)
})

test('the caller\'s object is copied, not kept', async (t) => {
  const { codec, request } = await codecOn(t, [randomBytes(32)])
  const data = { a: 1 }
  const { value } = codec.encode(data, 'session')
  data.a = 2
  assert.deepEqual(codec.decode(value, request, 'session')?.data, { a: 1 })
  assert.deepEqual(data, { a: 2 })
})

test('tampered, truncated, foreign and malformed values decode to undefined, never throw', async (t) => {
  const key = randomBytes(32)
  const { codec, request } = await codecOn(t, [key])
  const { codec: other } = await codecOn(t, [randomBytes(32)])
  const { value } = codec.encode({ a: 1 }, 'session')
  const [cipher, nonce] = value.split('.') as [string, string]
  const flipped = `${cipher.slice(0, 5)}${cipher[5] === 'A' ? 'B' : 'A'}${cipher.slice(6)}.${nonce}`
  for (const bad of [flipped, `${cipher.slice(0, -4)}.${nonce}`, `${cipher}.${nonce.slice(0, -2)}`, cipher, '', '.', 'a.b', `${nonce}.${cipher}`, other.encode({ a: 1 }, 'session').value, '%%%.%%%']) {
    assert.equal(codec.decode(bad, request, 'session'), undefined, bad.slice(0, 40))
  }
})

test('key rotation: the first key encrypts, every key decrypts', async (t) => {
  const oldKey = randomBytes(32)
  const newKey = randomBytes(32)
  const { codec: before, request } = await codecOn(t, [oldKey])
  const { codec: rotated } = await codecOn(t, [newKey, oldKey])
  const { codec: after } = await codecOn(t, [newKey])
  const old = before.encode({ a: 'old' }, 'session').value
  assert.deepEqual(rotated.decode(old, request, 'session')?.data, { a: 'old' })
  const fresh = rotated.encode({ a: 'new' }, 'session').value
  assert.equal(before.decode(fresh, request, 'session'), undefined, 'new cookies are under the new key')
  assert.deepEqual(after.decode(fresh, request, 'session')?.data, { a: 'new' })
  assert.equal(after.decode(old, request, 'session'), undefined, 'once the old key is dropped, its cookies are no more')
})

test('the codec leaves the app alone: no request.session, no cookie hooks, its own secure-session untouched', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await registerCodec(app, [randomBytes(32)], EXPIRY)
  app.get('/', async (request) => ({ session: (request as { session?: unknown }).session ?? null, cookies: (request as { cookies?: unknown }).cookies ?? null }))
  const response = await app.inject({ url: '/', headers: { cookie: 'fastifyCognitoSession=garbage; session=x' } })
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
