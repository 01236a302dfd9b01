import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSession, hasOutlivedMaxAge, parseSession, refreshedSession, SESSION_TOKEN_FIELDS, type CognitoSessionData } from '../../lib/session/model.js'
import type { VerifiedTokenSet } from '../../lib/tokens/token-set.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../../lib/types.js'

const NOW = 1_900_000_000.75

function session (overrides: Partial<CognitoSessionData> = {}): CognitoSessionData {
  return { v: 1, sid: 'sid-1', sub: 'user-1', accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r', expiresAt: 1_900_003_600, issuedAt: 1_900_000_000, createdAt: 1_900_000_000, ...overrides }
}

/** The verified claims a session is made from: the access token's (sub, iat, exp) and, when `idExp` is given, an ID token's. */
function verified (exp: number, { iat = 1_900_000_000, idExp, sub = 'user-1' }: { iat?: number, idExp?: number, sub?: string } = {}): VerifiedTokenSet {
  return {
    access: { sub, iat, exp } as CognitoAccessTokenPayload,
    id: idExp === undefined ? undefined : { sub, iat, exp: idExp } as CognitoIdTokenPayload
  }
}

test('createSession: a new session for a sign-in, with a random sid and whole-second createdAt', () => {
  const created = createSession(verified(1_900_003_600, { idExp: 1_900_003_600 }), { accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r' }, NOW)
  assert.deepEqual({ ...created, sid: 'x' }, { v: 1, sid: 'x', sub: 'user-1', accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r', expiresAt: 1_900_003_600, issuedAt: 1_900_000_000, createdAt: 1_900_000_000 })
  assert.match(created.sid, /^[A-Za-z0-9_-]{43}$/)
  assert.notEqual(createSession(verified(1), { accessToken: 'a' }, NOW).sid, created.sid, 'a new sign-in never continues an old session')
})

test('createSession: the user and the times come from the verified tokens; expiresAt is the earlier exp', () => {
  const created = createSession(verified(1_900_003_600, { iat: 1_899_999_990, idExp: 1_900_001_800, sub: 'user-2' }), { accessToken: 'a.b.c', idToken: 'i.d.t' }, NOW)
  assert.deepEqual([created.sub, created.issuedAt, created.expiresAt], ['user-2', 1_899_999_990, 1_900_001_800], 'an ID token that expires first')
  assert.equal(createSession(verified(1_900_003_600, { idExp: 1_900_007_200 }), { accessToken: 'a.b.c', idToken: 'i.d.t' }, NOW).expiresAt, 1_900_003_600, 'an access token that expires first')
})

test('createSession leaves out the tokens it was not given', () => {
  const created = createSession(verified(10), { accessToken: 'a.b.c', idToken: undefined, refreshToken: undefined }, 5)
  assert.equal('idToken' in created, false)
  assert.equal('refreshToken' in created, false)
  assert.equal(created.createdAt, 5)
})

test('refreshedSession: new access token, expiry and issue time; the old refresh token stays when Cognito sent none', () => {
  const before = session({ data: { tenant: 'acme' }, userInfo: { email: 'a@example.com' } })
  const after = refreshedSession(before, { accessToken: 'new.access.token' }, verified(1_900_007_200, { iat: 1_900_003_600 }))
  assert.deepEqual(after, { ...before, accessToken: 'new.access.token', expiresAt: 1_900_007_200, issuedAt: 1_900_003_600 })
  assert.equal(after.sid, before.sid, 'the same session')
  assert.equal(after.createdAt, before.createdAt, 'a refresh never extends the sign-in')
  assert.equal(before.accessToken, 'a.b.c', 'the old session is not changed')
})

test('refreshedSession: a rotated refresh token and a new ID token replace the old ones', () => {
  const after = refreshedSession(session(), { accessToken: 'n.a.t', idToken: 'n.i.t', refreshToken: 'rotated' }, verified(1_900_007_200, { idExp: 1_900_005_400 }))
  assert.deepEqual([after.accessToken, after.idToken, after.refreshToken], ['n.a.t', 'n.i.t', 'rotated'])
  assert.equal(after.expiresAt, 1_900_005_400, 'the earlier exp of the new tokens')
  const withoutRefresh = refreshedSession(session({ refreshToken: undefined }), { accessToken: 'n' }, verified(1))
  assert.equal(withoutRefresh.refreshToken, undefined)
})

test('parseSession: a copy, field by field, deep-frozen; unknown fields never ride along', () => {
  const stored = { ...session({ data: { roles: ['a'] }, userInfo: { email: 'a@example.com' } }), admin: true, __proto__: { x: 1 } }
  const parsed = parseSession(stored)
  assert.ok(parsed)
  assert.notEqual(parsed, stored)
  assert.deepEqual(parsed, session({ data: { roles: ['a'] }, userInfo: { email: 'a@example.com' } }))
  assert.equal('admin' in parsed, false)
  assert.ok(Object.isFrozen(parsed) && Object.isFrozen(parsed.data) && Object.isFrozen(parsed.data?.roles))
  const minimal = parseSession({ v: 1, sid: 's', sub: 'u', accessToken: 'a', expiresAt: 1, issuedAt: 0, createdAt: 0 })
  assert.deepEqual(minimal, { v: 1, sid: 's', sub: 'u', accessToken: 'a', expiresAt: 1, issuedAt: 0, createdAt: 0 })
})

test('parseSession: anything that is not a session of this version is undefined', () => {
  const broken: Array<Record<string, unknown> | unknown> = [
    undefined, null, 'session', [session()],
    { ...session(), v: 2 },
    { ...session(), v: '1' },
    { ...session(), sid: undefined },
    { ...session(), sub: 42 },
    { ...session(), accessToken: undefined },
    { ...session(), expiresAt: '1900003600' },
    { ...session(), issuedAt: undefined },
    { ...session(), issuedAt: '1900000000' },
    { ...session(), createdAt: undefined },
    { ...session(), idToken: 42 },
    { ...session(), refreshToken: null },
    { ...session(), userInfo: ['email'] },
    { ...session(), userInfo: 'a@example.com' },
    { ...session(), data: null },
    { ...session(), data: [1] }
  ]
  for (const value of broken) assert.equal(parseSession(value), undefined, JSON.stringify(value))
})

test('hasOutlivedMaxAge: from createdAt + maxSessionAge on, whatever the tokens', () => {
  const signedIn = session({ createdAt: 1000 })
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 1059.999), false)
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 1060), true)
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 5000), true)
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 999), false, 'a clock behind the sign-in')
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 940), false, 'a minute behind at most')
  assert.equal(hasOutlivedMaxAge(signedIn, 60, 939.5), true, 'a sign-in more than a minute in the future cannot escape the limit')
})

test('the token fields are the three tokens', () => {
  assert.deepEqual([...SESSION_TOKEN_FIELDS], ['accessToken', 'idToken', 'refreshToken'])
})
