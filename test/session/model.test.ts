import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createSession, hasOutlivedMaxAge, parseSession, refreshedSession, SESSION_TOKEN_FIELDS, type CognitoSessionData } from '../../lib/session/model.js'

const NOW = 1_900_000_000.75

function session (overrides: Partial<CognitoSessionData> = {}): CognitoSessionData {
  return { v: 1, sid: 'sid-1', sub: 'user-1', accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r', expiresAt: 1_900_003_600, createdAt: 1_900_000_000, ...overrides }
}

test('createSession: a new session for a sign-in, with a random sid and whole-second createdAt', () => {
  const created = createSession('user-1', { accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r' }, 1_900_003_600, NOW)
  assert.deepEqual({ ...created, sid: 'x' }, { v: 1, sid: 'x', sub: 'user-1', accessToken: 'a.b.c', idToken: 'i.d.t', refreshToken: 'r', expiresAt: 1_900_003_600, createdAt: 1_900_000_000 })
  assert.match(created.sid, /^[A-Za-z0-9_-]{43}$/)
  assert.notEqual(createSession('user-1', { accessToken: 'a' }, 1, NOW).sid, created.sid, 'a new sign-in never continues an old session')
})

test('createSession leaves out the tokens it was not given', () => {
  const created = createSession('user-1', { accessToken: 'a.b.c', idToken: undefined, refreshToken: undefined }, 10, 5)
  assert.equal('idToken' in created, false)
  assert.equal('refreshToken' in created, false)
  assert.equal(created.createdAt, 5)
})

test('refreshedSession: new access token and expiry; the old refresh token stays when Cognito sent none', () => {
  const before = session({ data: { tenant: 'acme' }, userInfo: { email: 'a@example.com' } })
  const after = refreshedSession(before, { accessToken: 'new.access.token' }, 1_900_007_200)
  assert.deepEqual(after, { ...before, accessToken: 'new.access.token', expiresAt: 1_900_007_200 })
  assert.equal(after.sid, before.sid, 'the same session')
  assert.equal(after.createdAt, before.createdAt, 'a refresh never extends the sign-in')
  assert.equal(before.accessToken, 'a.b.c', 'the old session is not changed')
})

test('refreshedSession: a rotated refresh token and a new ID token replace the old ones', () => {
  const after = refreshedSession(session(), { accessToken: 'n.a.t', idToken: 'n.i.t', refreshToken: 'rotated' }, 1)
  assert.deepEqual([after.accessToken, after.idToken, after.refreshToken], ['n.a.t', 'n.i.t', 'rotated'])
  const withoutRefresh = refreshedSession(session({ refreshToken: undefined }), { accessToken: 'n' }, 1)
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
  const minimal = parseSession({ v: 1, sid: 's', sub: 'u', accessToken: 'a', expiresAt: 1, createdAt: 0 })
  assert.deepEqual(minimal, { v: 1, sid: 's', sub: 'u', accessToken: 'a', expiresAt: 1, createdAt: 0 })
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
})

test('the token fields are the three tokens', () => {
  assert.deepEqual([...SESSION_TOKEN_FIELDS], ['accessToken', 'idToken', 'refreshToken'])
})
