import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hkdfSync, randomBytes } from 'node:crypto'
import { SessionCookieCipher } from '../../lib/session/codec.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { packSession } from '../../lib/session/pack.js'
import { formatTicket, newTicketSecret, parseTicket, revocationIdOf, StoreKeys, StoreRecordCipher } from '../../lib/session/store-records.js'
import { randomToken } from '../../lib/util/random.js'
import { flipCharacter } from '../helpers/app.js'
import { unsignedToken } from '../helpers/jwt.js'

// What a server-side session is made of: the ticket the browser holds, the key names in the store, and the two
// sealed halves of a stored value (the session, opened only with the ticket's secret; the envelope, opened with the
// server's keys alone). Everything is pure: no store here.

const CLIENT_ID = 'test-public-client'
const MAX_AGE = 3600
const NOW = 1_900_000_000

function session (overrides: Partial<CognitoSessionData> = {}): CognitoSessionData {
  return {
    v: 1,
    sid: randomToken(),
    sub: 'user-1',
    accessToken: unsignedToken({ sub: 'user-1', token_use: 'access', jti: 'jti-1', origin_jti: 'origin-1', exp: NOW + 3600 }),
    idToken: unsignedToken({ sub: 'user-1', token_use: 'id' }),
    refreshToken: `refresh-${randomBytes(40).toString('base64url')}`,
    expiresAt: NOW + 3600,
    issuedAt: NOW,
    createdAt: NOW,
    data: { tenant: 'acme' },
    ...overrides
  }
}

/** The envelope cipher as store-records.ts derives it: from the sessionSecret keys alone. */
function envelopeCipher (key: Buffer, clientId = CLIENT_ID): SessionCookieCipher {
  return new SessionCookieCipher([Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `fastify-cognito store v1\0envelope\0${clientId}`, 32))], MAX_AGE)
}

/** The session cipher of one ticket secret, as store-records.ts derives it. */
function sessionCipher (key: Buffer, secret: Buffer): SessionCookieCipher {
  return new SessionCookieCipher([Buffer.from(hkdfSync('sha256', key, secret, `fastify-cognito store v1\0session\0${CLIENT_ID}`, 32))], MAX_AGE)
}

test('a ticket is <sid>.<secret>: 43 + 1 + 43 characters, and parses back to the same sid and secret bytes', () => {
  const secret = newTicketSecret()
  assert.equal(secret.length, 32)
  assert.notDeepEqual(newTicketSecret(), secret, 'random')
  const sid = randomToken()
  const value = formatTicket({ sid, secret })
  assert.equal(value.length, 87)
  assert.equal(value, `${sid}.${secret.toString('base64url')}`)
  assert.deepEqual(parseTicket(value), { sid, secret })
})

test('anything else is no ticket: undefined, never an exception', () => {
  const good = formatTicket({ sid: randomToken(), secret: newTicketSecret() })
  const bad = [
    undefined,
    '',
    good.slice(0, -1),
    `${good}A`,
    `${good.slice(0, 43)}:${good.slice(44)}`,
    `${good.slice(0, 42)}+.${good.slice(44)}`,
    `${good.slice(0, 44)}${good.slice(45)}=`,
    `${good.slice(0, 44)}/${good.slice(45)}`,
    `${good.slice(0, 44)}.${good.slice(45)}`,
    ' '.repeat(87)
  ]
  for (const value of bad) assert.equal(parseTicket(value), undefined, String(value))
  assert.ok(parseTicket(good) !== undefined, 'control')
})

test('revocationIdOf: origin_jti (the whole sign-in), else jti, else nothing; read without verification', () => {
  assert.equal(revocationIdOf(unsignedToken({ jti: 'j', origin_jti: 'o' })), 'o')
  assert.equal(revocationIdOf(unsignedToken({ jti: 'j' })), 'j')
  assert.equal(revocationIdOf(unsignedToken({ jti: 'j', origin_jti: null })), 'j', 'a null origin_jti falls back to jti')
  assert.equal(revocationIdOf(unsignedToken({ sub: 's' })), undefined)
  assert.equal(revocationIdOf(unsignedToken({ origin_jti: '' })), undefined, 'an empty id is no id')
  assert.equal(revocationIdOf(unsignedToken({ origin_jti: 42 })), undefined, 'a number is no id')
  assert.equal(revocationIdOf(unsignedToken({ jti: ['j'] })), undefined)
  for (const garbage of ['', 'not a token', 'a.!!!.c', `a.${Buffer.from('[1]').toString('base64url')}.c`]) {
    assert.equal(revocationIdOf(garbage), undefined, garbage)
  }
})

test('StoreKeys: names under the prefix; a session and its lock share one hash tag; a user\'s index hides the sub', () => {
  const keys = new StoreKeys('app:')
  const sid = randomToken()
  assert.equal(keys.session(sid), `app:s:{${sid}}`)
  assert.equal(keys.lock(sid), `app:l:{${sid}}`)
  assert.equal(keys.revocations, 'app:revoked')
  assert.equal(keys.channel, 'app:events')
  const user = keys.userSessions('alice@example.com')
  assert.match(user, /^app:u:\{[A-Za-z0-9_-]{32}\}$/)
  assert.equal(user.includes('alice'), false, 'the sub is not spelled out')
  assert.equal(keys.userSessions('alice@example.com'), user, 'stable')
  assert.notEqual(keys.userSessions('bob'), user)
  assert.equal(new StoreKeys('').session('x'), 's:{x}')
})

test('seal and openSession: the session comes back, frozen, only with its ticket\'s secret and the same sessionSecret', () => {
  const key = randomBytes(32)
  const cipher = new StoreRecordCipher([key], CLIENT_ID, MAX_AGE)
  const secret = newTicketSecret()
  const original = session()
  const value = cipher.seal(original, secret, NOW)
  assert.match(value, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, '<sealed session>.<sealed envelope>, store-safe characters only')
  for (const secretPart of [original.accessToken, original.refreshToken as string, 'acme', 'user-1']) {
    assert.equal(value.includes(secretPart), false, 'nothing in clear')
  }

  const opened = cipher.openSession(value, secret, NOW)
  assert.deepEqual(opened, original)
  assert.ok(Object.isFrozen(opened))

  assert.equal(cipher.openSession(value, newTicketSecret(), NOW), undefined, 'another ticket\'s secret')
  assert.equal(new StoreRecordCipher([randomBytes(32)], CLIENT_ID, MAX_AGE).openSession(value, secret, NOW), undefined, 'another sessionSecret')
  assert.equal(new StoreRecordCipher([key], 'another-client', MAX_AGE).openSession(value, secret, NOW), undefined, 'another app client')
  assert.equal(cipher.openSession(value.replace('.', ''), secret, NOW), undefined, 'no dot: not a stored value')
  assert.equal(cipher.openSession(flipCharacter(value, 40), secret, NOW), undefined, 'tampered')
  assert.equal(cipher.openSession(value, secret, NOW + MAX_AGE + 61), undefined, 'sealed longer ago than the sessions live (and the minute of grace)')
  assert.deepEqual(cipher.openSession(value, secret, NOW + MAX_AGE), original, 'within the maximum age')
})

test('sessionSecret rotation: a value sealed with the old key opens while that key is still listed', () => {
  const oldKey = randomBytes(32)
  const newKey = randomBytes(32)
  const secret = newTicketSecret()
  const original = session()
  const value = new StoreRecordCipher([oldKey], CLIENT_ID, MAX_AGE).seal(original, secret, NOW)
  const rotated = new StoreRecordCipher([newKey, oldKey], CLIENT_ID, MAX_AGE)
  assert.deepEqual(rotated.openSession(value, secret, NOW), original)
  assert.deepEqual(rotated.openEnvelope(value, NOW), { refreshToken: original.refreshToken, revocationId: 'origin-1', expiresAt: original.expiresAt })
  const resealed = rotated.seal(original, secret, NOW)
  assert.equal(new StoreRecordCipher([oldKey], CLIENT_ID, MAX_AGE).openSession(resealed, secret, NOW), undefined, 'the first key seals')
})

test('openEnvelope: what ending a session from elsewhere needs, opened with the server\'s keys alone', () => {
  const key = randomBytes(32)
  const cipher = new StoreRecordCipher([key], CLIENT_ID, MAX_AGE)
  const full = session()
  assert.deepEqual(cipher.openEnvelope(cipher.seal(full, newTicketSecret(), NOW), NOW), { refreshToken: full.refreshToken, revocationId: 'origin-1', expiresAt: NOW + 3600 })

  const { refreshToken: _none, ...withoutRefresh } = session({ accessToken: unsignedToken({ jti: 'only-jti' }) })
  assert.deepEqual(cipher.openEnvelope(cipher.seal(withoutRefresh, newTicketSecret(), NOW), NOW), { refreshToken: undefined, revocationId: 'only-jti', expiresAt: NOW + 3600 })
  const anonymous = session({ accessToken: unsignedToken({ sub: 'user-1' }) })
  assert.equal(cipher.openEnvelope(cipher.seal(anonymous, newTicketSecret(), NOW), NOW)?.revocationId, undefined, 'a token without jti: no id to refuse it by')

  const value = cipher.seal(full, newTicketSecret(), NOW)
  assert.equal(new StoreRecordCipher([randomBytes(32)], CLIENT_ID, MAX_AGE).openEnvelope(value, NOW), undefined, 'another sessionSecret')
  assert.equal(new StoreRecordCipher([key], 'another-client', MAX_AGE).openEnvelope(value, NOW), undefined, 'another app client')
  assert.equal(cipher.openEnvelope(value.slice(0, value.indexOf('.')), NOW), undefined, 'no envelope')
  assert.equal(cipher.openEnvelope('', NOW), undefined)
  assert.equal(cipher.openEnvelope(value, NOW + MAX_AGE + 61), undefined, 'too old')
})

test('openEnvelope refuses an envelope that opens but does not hold one: not JSON, not an object, no numeric expiresAt; odd fields are dropped', () => {
  const key = randomBytes(32)
  const cipher = new StoreRecordCipher([key], CLIENT_ID, MAX_AGE)
  const sealed = (payload: string): string => `session.${envelopeCipher(key).seal(Buffer.from(payload, 'utf8'), NOW)}`
  for (const payload of ['not json', '', '[1,2]', 'null', '"text"', '{}', '{"expiresAt":"tomorrow"}', '{"refreshToken":"r"}']) {
    assert.equal(cipher.openEnvelope(sealed(payload), NOW), undefined, payload)
  }
  assert.deepEqual(cipher.openEnvelope(sealed('{"expiresAt":5,"refreshToken":7,"revocationId":{},"extra":"x"}'), NOW), { refreshToken: undefined, revocationId: undefined, expiresAt: 5 })
  assert.deepEqual(cipher.openEnvelope(sealed('{"expiresAt":5,"refreshToken":"r","revocationId":"i"}'), NOW), { refreshToken: 'r', revocationId: 'i', expiresAt: 5 })
})

test('openSession refuses what opens with the ticket\'s keys but is no session', () => {
  const key = randomBytes(32)
  const secret = newTicketSecret()
  const cipher = new StoreRecordCipher([key], CLIENT_ID, MAX_AGE)
  const valueOf = (payload: Buffer): string => `${sessionCipher(key, secret).seal(payload, NOW)}.envelope`
  const control = session()
  assert.deepEqual(cipher.openSession(valueOf(packSession(control)), secret, NOW), control, 'control: the derivation is the one of the store')
  assert.equal(cipher.openSession(valueOf(Buffer.from('garbage')), secret, NOW), undefined, 'not a packed session')
  assert.equal(cipher.openSession(valueOf(packSession({ v: 1, sid: 's' })), secret, NOW), undefined, 'a packed object that is no session')
  assert.equal(cipher.openSession(valueOf(packSession({ ...control, v: 2 })), secret, NOW), undefined, 'another version')
})
