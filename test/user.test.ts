import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { VerifiedTokenSet } from '../lib/tokens/token-set.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload } from '../lib/types.js'
import { buildUser, frozenUser, profileClaims, verifiedUser } from '../lib/user.js'

const POOL = 'eu-west-1_Pool'

const access = (claims: Record<string, unknown> = {}): CognitoAccessTokenPayload => ({
  sub: 'user-1', iss: 'https://issuer', client_id: 'c', token_use: 'access', iat: 1, exp: 2, username: 'alice', scope: 'openid email', ...claims
}) as CognitoAccessTokenPayload

const id = (claims: Record<string, unknown> = {}): CognitoIdTokenPayload => ({
  sub: 'user-1', iss: 'https://issuer', aud: 'c', token_use: 'id', 'cognito:username': 'alice', iat: 1, exp: 2, email: 'alice@example.com', email_verified: true, ...claims
}) as CognitoIdTokenPayload

test('buildUser from the access token alone (Bearer): claims are the access token\'s, no email', () => {
  const claims = access({ 'cognito:groups': ['admin', 'editor'] })
  assert.deepEqual(buildUser(claims, undefined, POOL), { sub: 'user-1', isMachine: false, username: 'alice', groups: ['admin', 'editor'], scopes: ['openid', 'email'], clientId: 'c', userPoolId: POOL, claims })
})

test('buildUser with the ID token (session): its claims, email and emailVerified', () => {
  const idClaims = id()
  const user = buildUser(access(), idClaims, POOL)
  assert.equal(user.claims, idClaims)
  assert.equal(user.email, 'alice@example.com')
  assert.equal(user.emailVerified, true)
  assert.equal(buildUser(access(), id({ email_verified: false }), POOL).emailVerified, false)
})

test('buildUser: email and emailVerified only when the ID token has them with the right types', () => {
  const user = buildUser(access({ email: 'access@example.com' }), id({ email: 42, email_verified: 'true' }), POOL)
  assert.equal('email' in user, false, 'never from the access token, never a non-string')
  assert.equal('emailVerified' in user, false, 'never a string')
})

test('groups from the access token only, else none', () => {
  assert.deepEqual(buildUser(access({ 'cognito:groups': ['a'] }), id({ 'cognito:groups': ['b'] }), POOL).groups, ['a'])
  assert.deepEqual(buildUser(access(), id({ 'cognito:groups': ['b'] }), POOL).groups, [], 'never from the ID token')
  assert.deepEqual(buildUser(access(), undefined, POOL).groups, [])
  assert.deepEqual(buildUser(access(), id(), POOL).groups, [])
})

test('scopes split on spaces, none when there is no scope', () => {
  assert.deepEqual(buildUser(access({ scope: '  openid   orders/read ' }), undefined, POOL).scopes, ['openid', 'orders/read'])
  assert.deepEqual(buildUser(access({ scope: undefined }), undefined, POOL).scopes, [])
  assert.deepEqual(buildUser(access({ scope: '' }), undefined, POOL).scopes, [])
})

test('buildUser of a machine token (no username): isMachine, its client, no group', () => {
  const claims = access({ sub: 'machine-client', client_id: 'machine-client', username: undefined, scope: 'orders/read' })
  assert.deepEqual(buildUser(claims, undefined, POOL), { sub: 'machine-client', isMachine: true, groups: [], scopes: ['orders/read'], clientId: 'machine-client', userPoolId: POOL, claims })
})

test('buildUser: the identity provider of the primary identity, else of the first named one', () => {
  const provider = (identities: unknown): string | undefined => buildUser(access(), id({ identities }), POOL).identityProvider
  assert.equal(provider([{ providerName: 'Google', primary: 'false' }, { providerName: 'Okta', primary: 'true' }]), 'Okta')
  assert.equal(provider([{ providerName: 'Google' }, { providerName: 'Okta' }]), 'Google')
  assert.equal(provider([{ providerName: '' }, null, 'x', { providerName: 'SAML', primary: true }]), 'SAML')
  assert.equal(provider([]), undefined)
  assert.equal(provider('Google'), undefined)
  assert.equal('identityProvider' in buildUser(access(), id(), POOL), false)
})

test('frozenUser: deep-frozen, and one shared scope list per scope string', () => {
  const first = frozenUser(access({ scope: 'openid shared/scope', 'cognito:groups': ['admin'] }), id(), POOL)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.groups) && Object.isFrozen(first.scopes) && Object.isFrozen(first.claims))
  assert.throws(() => { first.groups.push('root') }, TypeError)
  const second = frozenUser(access({ scope: 'openid shared/scope', sub: 'user-2' }), undefined, POOL)
  assert.equal(second.scopes, first.scopes, 'the same array')
  assert.notEqual(frozenUser(access({ scope: 'other' }), undefined, POOL).scopes, first.scopes)
  assert.deepEqual(frozenUser(access({ scope: undefined }), undefined, POOL).scopes, [])
})

test('frozenUser: the shared scope lists are bounded and stay right when the table starts over', () => {
  const users = Array.from({ length: 600 }, (_, i) => frozenUser(access({ scope: `scope-${i}` }), undefined, POOL))
  users.forEach((user, i) => { assert.deepEqual(user.scopes, [`scope-${i}`]) })
  assert.deepEqual(frozenUser(access({ scope: 'scope-0' }), undefined, POOL).scopes, ['scope-0'])
})

test('profileClaims: the ID token\'s claims completed by userInfo, the verified ID token winning, frozen', () => {
  const claims = id()
  assert.equal(profileClaims(claims, undefined), claims, 'no userInfo: the ID token\'s claims as they are')
  const merged = profileClaims(claims, { email_verified: false, phone_number: '+15555550100', email: 'other@example.com' })
  assert.equal(merged?.email_verified, true, 'the ID token wins where both have a claim')
  assert.equal(merged?.email, 'alice@example.com')
  assert.equal(merged?.phone_number, '+15555550100', 'userInfo completes what the ID token lacks')
  assert.ok(Object.isFrozen(merged))
})

test('profileClaims: undefined without an ID token, whatever userInfo holds', () => {
  assert.equal(profileClaims(undefined, undefined), undefined)
  assert.equal(profileClaims(undefined, { email: 'a@example.com' }), undefined)
})

test('verifiedUser: the user of tokens just verified, for the hooks that run outside a guard', () => {
  const verified: VerifiedTokenSet = { access: access({ 'cognito:groups': ['admin'] }), id: id() }
  const user = verifiedUser(verified, undefined, POOL)
  assert.equal(user.username, 'alice')
  assert.deepEqual(user.groups, ['admin'])
  assert.equal(user.email, 'alice@example.com')
  assert.equal(user.claims.token_use, 'id')
  assert.equal(user.userPoolId, POOL)
  assert.equal(verifiedUser({ ...verified, id: undefined }, undefined, POOL).claims.token_use, 'access')
  assert.equal(verifiedUser(verified, { phone_number: '+15555550100' }, POOL).claims.phone_number, '+15555550100', 'with userInfo')
})
