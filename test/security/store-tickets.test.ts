import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { buildApp, CookieJar, login, startIdp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildInstance } from '../fleet/helpers.js'

const COOKIE = 'cognito_sid'

function ticketOf (jar: CookieJar): { sid: string, secret: string } {
  const value = jar.cookies.get(COOKIE)
  if (value === undefined) throw new Error('no ticket cookie')
  const [sid = '', secret = ''] = value.split('.')
  return { sid, secret }
}

function withTicket (sid: string, secret: string): Record<string, string> {
  return { cookie: `${COOKIE}=${sid}.${secret}` }
}

test('a ticket is only good with its own per-session secret: forged, guessed and mixed tickets are no session', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const app = await buildInstance(t, idp, redis)
  const alice = ticketOf((await login(app, idp)).jar)
  const bob = ticketOf((await login(app, idp, { username: 'bob' })).jar)
  // The session is in this instance's memory now: the secret is compared there too (in constant time).
  assert.equal((await app.inject({ url: '/me', headers: withTicket(alice.sid, alice.secret) })).statusCode, 200)

  const random = randomBytes(32).toString('base64url')
  const cases: Array<[string, Record<string, string>]> = [
    ['a random ticket', withTicket(randomBytes(32).toString('base64url'), random)],
    ["alice's session id (readable in Redis's key names) with a guessed secret", withTicket(alice.sid, random)],
    ["alice's session id with bob's secret", withTicket(alice.sid, bob.secret)],
    ["bob's session id with alice's secret", withTicket(bob.sid, alice.secret)],
    ['a truncated ticket', withTicket(alice.sid, alice.secret.slice(0, 40))],
    ['a ticket with characters outside base64url', withTicket(alice.sid, `${alice.secret.slice(0, 42)}=`)],
    ['a ticket without its secret', { cookie: `${COOKIE}=${alice.sid}` }]
  ]
  for (const [name, headers] of cases) {
    const response = await app.inject({ url: '/me', headers })
    assert.equal(response.statusCode, 401, name)
    assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED', name)
  }
  // None of that disturbed the real sessions.
  assert.equal((await app.inject({ url: '/me', headers: withTicket(alice.sid, alice.secret) })).statusCode, 200)
  assert.equal((await app.inject({ url: '/me', headers: withTicket(bob.sid, bob.secret) })).statusCode, 200)
})

test("a stored value tampered with, or another session's value moved under this id, is no session (401, never a 500)", async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const client = await redis.client()
  // Every read goes to Redis: no instance memory hides what is stored.
  const app = await buildInstance(t, idp, redis, { tokenCacheSize: 0 })
  const alice = ticketOf((await login(app, idp)).jar)
  const bob = ticketOf((await login(app, idp, { username: 'bob' })).jar)
  const key = (sid: string): string => `fastify-cognito:test-public-client:s:{${sid}}`
  const aliceValue = await client.get(key(alice.sid))
  const bobValue = await client.get(key(bob.sid))
  assert.ok(aliceValue !== null && bobValue !== null)

  // Bob's value under Alice's id: Alice's secret does not open it, and Bob's secret with Alice's id is refused.
  await client.set(key(alice.sid), bobValue, { expiration: 'KEEPTTL' })
  assert.equal((await app.inject({ url: '/me', headers: withTicket(alice.sid, alice.secret) })).statusCode, 401)
  assert.equal((await app.inject({ url: '/me', headers: withTicket(alice.sid, bob.secret) })).statusCode, 401)

  for (const tampered of [`${aliceValue.slice(0, 30)}A${aliceValue.slice(31)}`, aliceValue.slice(0, 100), 'not a session', '.', `${aliceValue.split('.')[0] ?? ''}`]) {
    await client.set(key(alice.sid), tampered, { expiration: 'KEEPTTL' })
    const response = await app.inject({ url: '/me', headers: withTicket(alice.sid, alice.secret) })
    assert.equal(response.statusCode, 401)
    assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED')
  }
  await client.set(key(alice.sid), aliceValue, { expiration: 'KEEPTTL' })
  assert.equal((await app.inject({ url: '/me', headers: withTicket(alice.sid, alice.secret) })).statusCode, 200)
})

test('a new sign-in in the same browser ends the session it replaces: a copy of the old cookie is refused', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const app = await buildInstance(t, idp, redis)
  const { jar } = await login(app, idp)
  const old = jar.clone()
  await login(app, idp, { username: 'bob', jar })
  assert.notEqual(jar.cookies.get(COOKIE), old.cookies.get(COOKIE))
  assert.equal((await app.inject({ url: '/me', headers: { cookie: old.header } })).statusCode, 401)
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
})

test('a store session cookie means nothing to a cookie-session app of the same client, and the reverse', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const withStore = await buildInstance(t, idp, redis)
  const withCookies = await buildApp(t, idp)
  const storeJar = (await login(withStore, idp)).jar
  const cookieJar = (await login(withCookies, idp)).jar
  assert.equal((await withCookies.inject({ url: '/me', headers: { cookie: storeJar.header } })).statusCode, 401)
  assert.equal((await withStore.inject({ url: '/me', headers: { cookie: cookieJar.header } })).statusCode, 401)

  // A browser coming from the cookie sessions gets its old chunk cookies cleared at its first sign-in on the store.
  const upgraded = await login(withStore, idp, { jar: cookieJar.clone() })
  assert.ok([...upgraded.jar.cookies.keys()].every((name) => !name.startsWith('cognito_session.')))
  assert.ok(upgraded.jar.cookies.has(COOKIE))
})
