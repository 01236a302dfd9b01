import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { CognitoSessionData } from '../lib/session/model.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../lib/types.js'
import { buildUser, frozenUser, idTokenClaims, sessionUser } from '../lib/user.js'
import { unsignedToken } from './helpers/jwt.js'

const access = (claims: Record<string, unknown> = {}): CognitoAccessTokenPayload => ({
  sub: 'user-1', iss: 'https://issuer', client_id: 'c', token_use: 'access', iat: 1, exp: 2, username: 'alice', scope: 'openid email', ...claims
}) as CognitoAccessTokenPayload

const id = (claims: Record<string, unknown> = {}): CognitoIdTokenPayload => ({
  sub: 'user-1', iss: 'https://issuer', aud: 'c', token_use: 'id', 'cognito:username': 'alice', iat: 1, exp: 2, email: 'alice@example.com', email_verified: true, ...claims
}) as CognitoIdTokenPayload

function session (overrides: Partial<CognitoSessionData> = {}): CognitoSessionData {
  return { v: 1, sid: 's', sub: 'user-1', accessToken: unsignedToken(access({ 'cognito:groups': ['admin'] })), idToken: unsignedToken(id()), expiresAt: 2, createdAt: 1, ...overrides }
}

test('buildUser from the access token alone (Bearer): claims are the access token\'s, no email', () => {
  const claims = access({ 'cognito:groups': ['admin', 'editor'] })
  assert.deepEqual(buildUser(claims), { sub: 'user-1', username: 'alice', groups: ['admin', 'editor'], scopes: ['openid', 'email'], claims })
})

test('buildUser with the ID token (session): its claims, email and emailVerified', () => {
  const idClaims = id()
  const user = buildUser(access(), idClaims)
  assert.equal(user.claims, idClaims)
  assert.equal(user.email, 'alice@example.com')
  assert.equal(user.emailVerified, true)
  assert.equal(buildUser(access(), id({ email_verified: false })).emailVerified, false)
})

test('buildUser: email and emailVerified only when the ID token has them with the right types', () => {
  const user = buildUser(access({ email: 'access@example.com' }), id({ email: 42, email_verified: 'true' }))
  assert.equal('email' in user, false, 'never from the access token, never a non-string')
  assert.equal('emailVerified' in user, false, 'never a string')
})

test('groups from the access token, else from the ID token, else none', () => {
  assert.deepEqual(buildUser(access({ 'cognito:groups': ['a'] }), id({ 'cognito:groups': ['b'] })).groups, ['a'])
  assert.deepEqual(buildUser(access(), id({ 'cognito:groups': ['b'] })).groups, ['b'])
  assert.deepEqual(buildUser(access()).groups, [])
  assert.deepEqual(buildUser(access(), id()).groups, [])
})

test('scopes split on spaces, none when there is no scope', () => {
  assert.deepEqual(buildUser(access({ scope: '  openid   orders/read ' })).scopes, ['openid', 'orders/read'])
  assert.deepEqual(buildUser(access({ scope: undefined })).scopes, [])
  assert.deepEqual(buildUser(access({ scope: '' })).scopes, [])
})

test('frozenUser: deep-frozen, and one shared scope list per scope string', () => {
  const first = frozenUser(access({ scope: 'openid shared/scope', 'cognito:groups': ['admin'] }), id())
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.groups) && Object.isFrozen(first.scopes) && Object.isFrozen(first.claims))
  assert.throws(() => { first.groups.push('root') }, TypeError)
  const second = frozenUser(access({ scope: 'openid shared/scope', sub: 'user-2' }))
  assert.equal(second.scopes, first.scopes, 'the same array')
  assert.notEqual(frozenUser(access({ scope: 'other' })).scopes, first.scopes)
  assert.deepEqual(frozenUser(access({ scope: undefined })).scopes, [])
})

test('frozenUser: the shared scope lists are bounded and stay right when the table starts over', () => {
  const users = Array.from({ length: 600 }, (_, i) => frozenUser(access({ scope: `scope-${i}` })))
  users.forEach((user, i) => { assert.deepEqual(user.scopes, [`scope-${i}`]) })
  assert.deepEqual(frozenUser(access({ scope: 'scope-0' })).scopes, ['scope-0'])
})

test('idTokenClaims: the session\'s ID token claims, userInfo merged over them, frozen', () => {
  const claims = idTokenClaims(session())
  assert.deepEqual(claims, id())
  assert.ok(Object.isFrozen(claims))
  const merged = idTokenClaims(session({ userInfo: { email_verified: false, phone_number: '+15555550100' } }))
  assert.equal(merged?.email_verified, false)
  assert.equal(merged?.phone_number, '+15555550100')
  assert.equal(merged?.email, 'alice@example.com')
  assert.ok(Object.isFrozen(merged))
})

test('idTokenClaims: undefined without an ID token or when it does not decode', () => {
  assert.equal(idTokenClaims(session({ idToken: undefined })), undefined)
  assert.equal(idTokenClaims(session({ idToken: 'not-a-jwt' })), undefined)
  assert.equal(idTokenClaims(session({ idToken: `x.${Buffer.from('[1]').toString('base64url')}.y` })), undefined)
})

test('sessionUser: the user a guard would build, for hooks outside a guard', () => {
  const user = sessionUser(session())
  assert.equal(user.username, 'alice')
  assert.deepEqual(user.groups, ['admin'])
  assert.equal(user.email, 'alice@example.com')
  assert.equal(user.claims.token_use, 'id')
  assert.equal(sessionUser(session({ idToken: undefined })).claims.token_use, 'access')
})

test('sessionUser of a session whose access token does not decode has no identity, and no exception', () => {
  const user = sessionUser(session({ accessToken: 'garbage', idToken: undefined }))
  assert.equal(user.sub, undefined)
  assert.deepEqual(user.groups, [])
  assert.deepEqual(user.scopes, [])
})
