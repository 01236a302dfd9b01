import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync, sign } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito, { type FastifyCognitoOptions } from '../../lib/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { CLIENT_IDS, login, pluginOptions, startIdp } from '../helpers/app.js'
import { cookieForger, decodeJwt, type CookieForger } from '../helpers/session-cookie.js'

// Issue 11, finding 1: the session's ID token was never verified after sign-in, yet request.user took its groups
// from it when the access token had none. Someone holding a session secret (an old one still in the rotation
// array) could wrap their own valid access token with an ID token claiming `cognito:groups: ["admin"]` and turn a
// 403 into a 200. Authorization must rest on the verified access token only; ID-token claims only from an ID token
// verified when the session is decoded (signature, iss, aud, token_use, and the access token's sub).

interface Harness {
  idp: LocalCognito
  app: FastifyInstance
  forger: CookieForger
  /** bob's real session (bob is in no group), decrypted. */
  bob: Record<string, unknown> & { accessToken: string, idToken: string }
}

async function signedInBob (t: TestContext): Promise<Harness> {
  const idp = await startIdp(t)
  const options: FastifyCognitoOptions = pluginOptions(idp, 'public')
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ user: request.user }))
  app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async () => ({ ok: 'admin' }))
  app.get('/ops', { preHandler: app.cognito.requireAuth({ check: (user) => user.claims['custom:role'] === 'ops' }) }, async () => ({ ok: 'ops' }))
  await app.ready()
  const forger = cookieForger(options)
  const { jar } = await login(app, idp, { username: 'bob' })
  const bob = forger.openSession(jar.header)
  assert.ok(bob !== undefined && typeof bob.accessToken === 'string' && typeof bob.idToken === 'string', 'bob has a session with both tokens')
  return { idp, app, forger, bob: bob as Harness['bob'] }
}

/** bob's ID token claims, with `cognito:groups: ["admin"]` added. */
function adminClaims (bob: Harness['bob']): Record<string, unknown> {
  return { ...decodeJwt(bob.idToken).payload, 'cognito:groups': ['admin'] }
}

function compact (header: Record<string, unknown>, payload: Record<string, unknown>, signature: string): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.${signature}`
}

async function get (app: FastifyInstance, url: string, cookie: string): Promise<{ statusCode: number, code?: string, body: Record<string, unknown> }> {
  const response = await app.inject({ url, headers: { cookie } })
  const body = response.json() as Record<string, unknown>
  return { statusCode: response.statusCode, code: body.code as string | undefined, body }
}

test('control: bob\'s own session, re-sealed by the harness, authenticates and is refused the admin guard (403)', async (t) => {
  const { app, forger, bob } = await signedInBob(t)
  const cookie = forger.forgeSession(bob)
  const me = await get(app, '/me', cookie)
  assert.equal(me.statusCode, 200)
  assert.deepEqual((me.body.user as { groups: string[] }).groups, [])
  assert.equal((await get(app, '/admin', cookie)).statusCode, 403)
})

test('an unsigned ID token (alg none) claiming the admin group in a session with bob\'s valid access token: 401, never 200', async (t) => {
  const { app, forger, bob } = await signedInBob(t)
  const { header } = decodeJwt(bob.idToken)
  const unsigned = compact({ ...header, alg: 'none' }, adminClaims(bob), '')
  for (const idToken of [unsigned, unsigned.slice(0, -1) + '.AAAA']) {
    const cookie = forger.forgeSession({ ...bob, idToken })
    const admin = await get(app, '/admin', cookie)
    assert.equal(admin.statusCode, 401)
    assert.equal(admin.code, 'FST_COGNITO_INVALID_TOKEN')
    assert.equal((await get(app, '/me', cookie)).statusCode, 401, 'the session does not authenticate at all')
  }
})

test('an ID token signed with a foreign key (under the pool\'s kid) claiming the admin group: 401, never 200', async (t) => {
  const { app, forger, bob } = await signedInBob(t)
  const { header } = decodeJwt(bob.idToken)
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const signingInput = compact(header, adminClaims(bob), '').slice(0, -1)
  const forged = `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`
  const cookie = forger.forgeSession({ ...bob, idToken: forged })
  const admin = await get(app, '/admin', cookie)
  assert.equal(admin.statusCode, 401)
  assert.equal(admin.code, 'FST_COGNITO_INVALID_TOKEN')
  assert.match(String(admin.body.message), /signature/)
  assert.equal((await get(app, '/me', cookie)).statusCode, 401)
})

test('a genuinely signed ID token claiming the admin group does not grant it: groups come from the access token only (403)', async (t) => {
  const { idp, app, forger, bob } = await signedInBob(t)
  const idToken = await idp.mintIdToken('bob', CLIENT_IDS.public, { claims: { 'cognito:groups': ['admin'] } })
  const cookie = forger.forgeSession({ ...bob, idToken })
  const admin = await get(app, '/admin', cookie)
  assert.equal(admin.statusCode, 403)
  assert.equal(admin.code, 'FST_COGNITO_FORBIDDEN')
  const me = await get(app, '/me', cookie)
  assert.equal(me.statusCode, 200, 'the ID token itself is valid')
  const user = me.body.user as { groups: string[], claims: Record<string, unknown> }
  assert.deepEqual(user.groups, [], 'request.user.groups is the access token\'s (none)')
  assert.deepEqual(user.claims['cognito:groups'], ['admin'], 'the verified ID token\'s claims are still visible as claims')
})

test('an ID token of another user (alice, signed by the pool) in bob\'s session: 401', async (t) => {
  const { idp, app, forger, bob } = await signedInBob(t)
  const idToken = await idp.mintIdToken('alice', CLIENT_IDS.public)
  const cookie = forger.forgeSession({ ...bob, idToken })
  for (const url of ['/me', '/admin']) {
    const response = await get(app, url, cookie)
    assert.equal(response.statusCode, 401, url)
    assert.equal(response.code, 'FST_COGNITO_INVALID_TOKEN')
    assert.match(String(response.body.message), /different users/)
  }
})

test('an ID token of another app client (aud) or an access token in its place: 401', async (t) => {
  const { idp, app, forger, bob } = await signedInBob(t)
  const otherClient = await idp.mintIdToken('bob', CLIENT_IDS.confidential)
  const accessAsId = await idp.mintAccessToken('bob', CLIENT_IDS.public)
  for (const idToken of [otherClient, accessAsId]) {
    const response = await get(app, '/me', forger.forgeSession({ ...bob, idToken }))
    assert.equal(response.statusCode, 401)
    assert.equal(response.code, 'FST_COGNITO_INVALID_TOKEN')
  }
})

test('on a normal sign-in, request.user.claims are exactly the verified ID token\'s claims', async (t) => {
  const idp = await startIdp(t)
  const options = pluginOptions(idp, 'public')
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, options)
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ user: request.user }))
  const { jar } = await login(app, idp, { username: 'alice' })
  const session = cookieForger(options).openSession(jar.header)
  assert.ok(typeof session?.idToken === 'string')
  const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  const user = response.json().user
  assert.deepEqual(user.claims, decodeJwt(session.idToken).payload)
  assert.equal(user.claims.token_use, 'id')
  assert.equal(user.claims.aud, CLIENT_IDS.public)
  assert.equal(user.claims['cognito:username'], 'alice')
  assert.equal(user.email, 'alice@example.com')
  assert.deepEqual(user.groups, ['admin', 'editor'])
})

// Regression: the same holder of a session secret, with no ID token to forge, could plant a `userInfo` field: it was
// merged under the verified ID token's claims whether or not the app asked for userInfo. It is now read only with
// the `userInfo` option on.
test('a userInfo field planted in the session of an app without `userInfo` adds no claim and passes no check', async (t) => {
  const { app, forger, bob } = await signedInBob(t)
  app.log.level = 'silent'
  const cookie = forger.forgeSession({ ...bob, userInfo: { sub: decodeJwt(bob.accessToken).payload.sub, 'custom:role': 'ops' } })
  const me = await get(app, '/me', cookie)
  assert.equal(me.statusCode, 200, 'the tokens are bob\'s own and valid')
  const claims = (me.body.user as { claims: Record<string, unknown> }).claims
  assert.equal(claims['custom:role'], undefined, `planted claim in request.user.claims: ${String(claims['custom:role'])}`)
  const ops = await get(app, '/ops', cookie)
  assert.equal(ops.statusCode, 403, `planted claim passed the check guard: ${ops.statusCode}`)
})
