import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import { accessTokenHash, decodeJws, hasValidSignature, isCanonicalBase64url, KnownHeaders, MAX_TOKEN_LENGTH, unverifiedPayload } from '../../lib/tokens/jws.js'
import { encodePart, rsaTestKey, signToken } from '../helpers/jwt.js'

const key = rsaTestKey('k1')
const payload = { sub: 'user-1', token_use: 'access', exp: 2_000_000_000 }
const token = signToken(key, payload)

function refusal (input: unknown, message: RegExp | string): void {
  assert.throws(() => decodeJws(input), (error: { code?: string, statusCode?: number, message?: string }) => {
    assert.equal(error.code, 'FST_COGNITO_INVALID_TOKEN')
    assert.equal(error.statusCode, 401)
    if (typeof message === 'string') assert.equal(error.message, message)
    else assert.match(error.message ?? '', message)
    return true
  }, JSON.stringify(input)?.slice(0, 60))
}

test('decodeJws splits a compact JWS and decodes its header and payload', () => {
  const decoded = decodeJws(token)
  const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string]
  assert.equal(decoded.kid, 'k1')
  assert.equal(decoded.headerPart, headerPart)
  assert.deepEqual(decoded.header, { alg: 'RS256', kid: 'k1' })
  assert.equal(decoded.signingInput, `${headerPart}.${payloadPart}`)
  assert.equal(decoded.signaturePart, signaturePart)
  assert.deepEqual(decoded.payload, payload)
})

test('decodeJws refuses what is not a token', () => {
  for (const input of [undefined, null, 42, {}, '']) refusal(input, 'Token is missing')
  refusal('a'.repeat(MAX_TOKEN_LENGTH + 1), 'Token is too large')
  for (const input of ['abc', 'a.b', 'a.b.c.d', '.', 'a..b.c']) refusal(input, /three dot-separated parts/)
  for (const input of ['..', 'a.b.', '.b.c', 'a..c', 'a+.b.c', 'a.b=.c', 'a.b.c/', 'a b.c.d']) refusal(input, /base64url|three dot-separated/)
})

test('decodeJws refuses a header or payload that is not a JSON object', () => {
  const signature = token.split('.')[2] as string
  refusal(`${Buffer.from('{not json').toString('base64url')}.${encodePart(payload)}.${signature}`, 'Token header is not valid JSON')
  refusal(`${encodePart(['RS256'])}.${encodePart(payload)}.${signature}`, 'Token header is not a JSON object')
  refusal(`${encodePart({ alg: 'RS256', kid: 'k1' })}.${Buffer.from('[').toString('base64url')}.${signature}`, 'Token payload is not valid JSON')
  refusal(`${encodePart({ alg: 'RS256', kid: 'k1' })}.${encodePart('a string')}.${signature}`, 'Token payload is not a JSON object')
  refusal(`${encodePart({ alg: 'RS256', kid: 'k1' })}.${encodePart(null)}.${signature}`, 'Token payload is not a JSON object')
})

test('decodeJws takes RS256 only, with a kid and no critical extension', () => {
  const signature = token.split('.')[2] as string
  const withHeader = (header: unknown): string => `${encodePart(header)}.${encodePart(payload)}.${signature}`
  for (const alg of ['none', 'HS256', 'RS512', 'PS256', 'ES256', 'rs256', undefined]) refusal(withHeader({ alg, kid: 'k1' }), 'Token algorithm is not RS256')
  for (const kid of [undefined, '', 7, ['k1']]) refusal(withHeader({ alg: 'RS256', kid }), 'Token header has no kid')
  refusal(withHeader({ alg: 'RS256', kid: 'k1', crit: ['exp'] }), 'Token header has unsupported critical extensions')
  refusal(withHeader({ alg: 'RS256', kid: 'k1', crit: [] }), 'Token header has unsupported critical extensions')
  assert.equal(decodeJws(withHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })).kid, 'k1', 'other members are fine')
})

test('the size limit is MAX_TOKEN_LENGTH characters, checked before any decoding', () => {
  const [header, body] = token.split('.') as [string, string]
  const ofLength = (length: number): string => `${header}.${body}.${'A'.repeat(length - header.length - body.length - 2)}`
  assert.equal(ofLength(MAX_TOKEN_LENGTH).length, MAX_TOKEN_LENGTH)
  assert.equal(decodeJws(ofLength(MAX_TOKEN_LENGTH)).kid, 'k1')
  refusal(ofLength(MAX_TOKEN_LENGTH + 1), 'Token is too large')
})

test('KnownHeaders: a remembered header is frozen and reused for the same header text', () => {
  const known = new KnownHeaders()
  const first = decodeJws(token, known)
  assert.equal(known.get(first.headerPart), undefined, 'nothing is remembered before a verification says so')
  known.remember(first)
  const header = known.get(first.headerPart)
  assert.ok(header !== undefined && Object.isFrozen(header))
  const second = decodeJws(signToken(key, { ...payload, sub: 'user-2' }), known)
  assert.equal(second.header, header, 'the parsed header is shared, not parsed again')
  assert.equal(second.payload.sub, 'user-2')
  known.remember(second)
  assert.equal(known.get(first.headerPart), header, 'remembering the same header again keeps the first')
})

test('KnownHeaders still applies the header rules to a remembered header', () => {
  const known = new KnownHeaders()
  const signature = token.split('.')[2] as string
  const headerPart = encodePart({ alg: 'RS256', kid: 'k1' })
  known.remember({ ...decodeJws(token), headerPart, header: { alg: 'HS256', kid: 'k1' } })
  assert.throws(() => decodeJws(`${headerPart}.${encodePart(payload)}.${signature}`, known), { message: 'Token algorithm is not RS256' })
})

test('KnownHeaders is bounded: past 16 distinct headers it starts over', () => {
  const known = new KnownHeaders()
  const decoded = Array.from({ length: 17 }, (_, i) => decodeJws(signToken(key, payload, { kid: `kid-${i}` })))
  for (const entry of decoded.slice(0, 16)) known.remember(entry)
  assert.ok(decoded.slice(0, 16).every((entry) => known.get(entry.headerPart) !== undefined))
  known.remember(decoded[16] as (typeof decoded)[number])
  assert.equal(known.get((decoded[0] as (typeof decoded)[number]).headerPart), undefined)
  assert.ok(known.get((decoded[16] as (typeof decoded)[number]).headerPart))
})

test('hasValidSignature: RS256 by the right key over exactly the signing input', () => {
  const decoded = decodeJws(token)
  assert.equal(hasValidSignature(decoded, key.publicKey), true)
  assert.equal(hasValidSignature(decoded, rsaTestKey('other').publicKey), false, 'another key')
  assert.equal(hasValidSignature({ ...decoded, signingInput: `${decoded.signingInput}x` }, key.publicKey), false, 'another input')
  const [header, body, signature] = token.split('.') as [string, string, string]
  const tampered = `${header}.${encodePart({ ...payload, sub: 'admin' })}.${signature}`
  assert.equal(hasValidSignature(decodeJws(tampered), key.publicKey), false, 'a changed payload')
  assert.equal(hasValidSignature(decodeJws(`${header}.${body}.${signature.slice(0, -4)}`), key.publicKey), false, 'a cut signature')
})

test('hasValidSignature answers false, never throws, for a key that cannot verify RS256', () => {
  const decoded = decodeJws(token)
  assert.equal(hasValidSignature(decoded, createSecretKey(randomBytes(32))), false)
  assert.equal(hasValidSignature(decoded, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), false)
})

test('isCanonicalBase64url agrees with a decode and re-encode, for every length and last character', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for (let length = 1; length <= 12; length++) {
    for (const last of alphabet) {
      const value = `${Buffer.from(randomBytes(length)).toString('base64url').slice(0, length - 1)}${last}`.slice(-length)
      const canonical = Buffer.from(value, 'base64url').toString('base64url') === value
      assert.equal(isCanonicalBase64url(value), canonical, `${JSON.stringify(value)} (length ${length})`)
    }
  }
})

test('isCanonicalBase64url on a real signature and its re-encodings', () => {
  const signature = token.split('.')[2] as string
  assert.equal(isCanonicalBase64url(signature), true)
  assert.equal(isCanonicalBase64url(''), true)
  assert.equal(isCanonicalBase64url('A'), false, 'a dangling character')
  assert.equal(isCanonicalBase64url('AB'), false, 'unused bits set')
  assert.equal(isCanonicalBase64url('AQ'), true)
})

test('unverifiedPayload decodes the payload without any check, undefined when it is no JSON object', () => {
  assert.deepEqual(unverifiedPayload(token), payload)
  assert.deepEqual(unverifiedPayload(`x.${encodePart({ a: 1 })}`), { a: 1 }, 'two parts are enough')
  for (const input of ['', 'no-dots', `x.${encodePart([1])}.y`, `x.${encodePart('s')}.y`, `x.${Buffer.from('{').toString('base64url')}.y`, 'x..y']) {
    assert.equal(unverifiedPayload(input), undefined, input)
  }
})

test('accessTokenHash: base64url of the left half of SHA-256 (OIDC Core 3.1.3.6)', () => {
  assert.equal(accessTokenHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y'), '77QmUPtjPfzWtF2AnpK9RQ')
  const digest = createHash('sha256').update(token).digest()
  assert.equal(accessTokenHash(token), digest.subarray(0, 16).toString('base64url'))
  assert.equal(accessTokenHash(token).length, 22)
})
