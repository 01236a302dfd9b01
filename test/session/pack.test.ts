import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import fc from 'fast-check'
import { packSession, unpackSession } from '../../lib/session/pack.js'

function jwtLike (claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ kid: 'k1', alg: 'RS256' })}.${part(claims)}.${randomBytes(256).toString('base64url')}`
}

const groups = Array.from({ length: 40 }, (_, i) => `department-${String(i).padStart(2, '0')}-readers-and-writers`)

test('a session round-trips exactly, tokens included, and JWTs shrink', () => {
  const session = {
    v: 1,
    sid: 'sid-1',
    sub: 'user-1',
    accessToken: jwtLike({ sub: 'user-1', 'cognito:groups': groups, token_use: 'access' }),
    idToken: jwtLike({ sub: 'user-1', 'cognito:groups': groups, token_use: 'id', email: 'a@example.com' }),
    refreshToken: `eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.${randomBytes(256).toString('base64url')}..${randomBytes(1000).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
    expiresAt: 1_900_000_000,
    createdAt: 1_899_999_000,
    data: { tenant: 'acme', nested: { list: [1, 'two'] } }
  }
  const packed = packSession(session)
  assert.deepEqual(unpackSession(packed), session)
  const plain = JSON.stringify(session).length
  assert.ok(packed.length < plain / 2, `packed ${packed.length} bytes, JSON ${plain}`)
})

test('tokens that are not canonical base64url segments, and absent tokens, round-trip as text', () => {
  for (const accessToken of ['a.b.c=', 'not base64 at all!', 'ab+/cd.ef', '', 'x..y', 'é.ü']) {
    const session = { v: 1, sub: 's', accessToken, expiresAt: 1, createdAt: 0 }
    assert.deepEqual(unpackSession(packSession(session)), session, accessToken)
  }
})

test('property: any session-shaped object round-trips', () => {
  fc.assert(fc.property(
    fc.record({ v: fc.constant(1), sid: fc.string(), accessToken: fc.string(), idToken: fc.option(fc.string(), { nil: undefined }), data: fc.dictionary(fc.string(), fc.jsonValue()) }, { requiredKeys: ['v', 'sid', 'accessToken'] }),
    (session) => {
      const copy = JSON.parse(JSON.stringify(session)) as Record<string, unknown>
      assert.deepEqual(unpackSession(packSession(session)), copy)
    }
  ), { numRuns: 500 })
})

test('malformed packed values are undefined, never an exception', () => {
  const valid = packSession({ v: 1, accessToken: 'a.b.c' })
  const inflatesTo = (bytes: number[]): Buffer => deflateRawSync(Buffer.from(bytes))
  for (const packed of [Buffer.alloc(0), Buffer.from('not-deflate'), valid.subarray(0, -4), inflatesTo([2]), inflatesTo([1, 0, 0, 0, 9, 123]), inflatesTo([1, 0, 0, 0, 2, 91, 93, 0, 0, 0]),
    inflatesTo([1, 0, 0, 0, 2, 123, 125, 0, 0, 0, 7]), inflatesTo([1, 0, 0, 0, 2, 123, 125, 3, 0, 0, 0, 1, 65])]) {
    assert.equal(unpackSession(packed), undefined, packed.toString('hex'))
  }
  assert.deepEqual(unpackSession(inflatesTo([1, 0, 0, 0, 2, 123, 125, 0, 0, 0])), {}, 'control: a well-formed empty session')
})

test('an inflated size over 256 KB is refused (a deflate bomb costs nothing)', () => {
  const bomb = deflateRawSync(Buffer.alloc(1024 * 1024))
  assert.equal(unpackSession(bomb), undefined)
})

test('a packed value whose JSON part does not parse, or whose token parts are cut, is undefined', () => {
  const inflatesTo = (bytes: number[]): Buffer => deflateRawSync(Buffer.from(bytes))
  assert.equal(unpackSession(inflatesTo([1, 0, 0, 0, 1, 123, 0, 0, 0])), undefined, 'JSON "{"')
  assert.equal(unpackSession(inflatesTo([1, 0, 0, 0, 2, 123, 125, 255, 0, 0, 0, 5, 65])), undefined, 'a text token shorter than its length')
  assert.equal(unpackSession(inflatesTo([1, 0, 0, 0, 2, 123, 125, 0, 0])), undefined, 'a token field missing')
  assert.deepEqual(unpackSession(inflatesTo([1, 0, 0, 0, 2, 123, 125, 255, 0, 0, 0, 1, 65, 0, 0])), { accessToken: 'A' }, 'control: a text token')
  assert.deepEqual(unpackSession(inflatesTo([1, 0, 0, 0, 2, 123, 125, 2, 0, 0, 0, 1, 0xfb, 0, 0, 0, 1, 0xef, 0, 0])), { accessToken: '-w.7w' }, 'control: a token of two segments')
})
