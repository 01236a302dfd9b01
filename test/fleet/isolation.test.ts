import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { APP_ORIGIN, CLIENT_IDS, login, startIdp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildInstance, captureLogins, dumpRedis, sidOf, waitFor } from './helpers.js'

/** The start of a compact JWS: a base64url JSON header, a dot, a base64url JSON payload. */
const JWT_LOOKING = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/

/**
 * Two app clients on one Redis never see each other's sessions, and what the store holds is of no use to whoever
 * reads Redis: no token, no JWT, no e-mail address, no user id, and nothing kept for ever.
 */

const PUBLIC_PREFIX = `fastify-cognito:${CLIENT_IDS.public}:`
const CONFIDENTIAL_PREFIX = `fastify-cognito:${CLIENT_IDS.confidential}:`

async function status (app: FastifyInstance, cookie: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: { cookie } })).statusCode
}

test('two app clients on one Redis: each refuses the other\'s session cookie, and their keys live under two prefixes', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const publicApp = await buildInstance(t, idp, redis)
  const confidentialApp = await buildInstance(t, idp, redis, {}, 'confidential')
  const onPublic = await login(publicApp, idp)
  const onConfidential = await login(confidentialApp, idp)

  assert.equal(await status(publicApp, onPublic.jar.header), 200)
  assert.equal(await status(confidentialApp, onConfidential.jar.header), 200)
  // Same cookie name, same user, same Redis: still the other app's session is no session here.
  assert.equal(await status(confidentialApp, onPublic.jar.header), 401)
  assert.equal(await status(publicApp, onConfidential.jar.header), 401)
  // ... and that refusal ended nothing: both sessions still work in their own app.
  assert.equal(await status(publicApp, onPublic.jar.header), 200)
  assert.equal(await status(confidentialApp, onConfidential.jar.header), 200)

  const keys = (await dumpRedis(await redis.client())).map(({ key }) => key)
  assert.deepEqual(keys.filter((key) => !key.startsWith(PUBLIC_PREFIX) && !key.startsWith(CONFIDENTIAL_PREFIX)), [])
  assert.ok(keys.includes(`${PUBLIC_PREFIX}s:{${sidOf(onPublic.jar)}}`), keys.join('\n'))
  assert.ok(keys.includes(`${CONFIDENTIAL_PREFIX}s:{${sidOf(onConfidential.jar)}}`), keys.join('\n'))
  assert.equal(keys.filter((key) => key.startsWith(PUBLIC_PREFIX)).length, 2, 'a session and its user\'s index')
  assert.equal(keys.filter((key) => key.startsWith(CONFIDENTIAL_PREFIX)).length, 2, 'a session and its user\'s index')

  // A sign-out in one app leaves the other app's session of the same user alone.
  const out = await publicApp.inject({ method: 'POST', url: '/logout', headers: { cookie: onPublic.jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(await status(publicApp, onPublic.jar.header), 401)
  assert.equal(await status(confidentialApp, onConfidential.jar.header), 200)
})

test('a dump of the whole Redis, and of what went through its channels, holds no token, no JWT, no e-mail address and no user id, and every key expires', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  // Every message of every channel, as anyone subscribed to Redis would see them.
  const listener = await redis.client()
  const messages: Array<{ channel: string, message: string }> = []
  await listener.pSubscribe('*', (message, channel) => { messages.push({ channel, message }) })
  const captured = captureLogins()
  const publicApp = await buildInstance(t, idp, redis, { onLogin: captured.onLogin })
  const confidentialApp = await buildInstance(t, idp, redis, { onLogin: captured.onLogin }, 'confidential')
  const alice = await login(publicApp, idp)
  await login(confidentialApp, idp)
  await login(publicApp, idp, { username: 'bob' })
  const bobOnConfidential = await login(confidentialApp, idp, { username: 'bob' })
  // A sign-out writes too: the list of signed-out tokens and the event.
  const out = await confidentialApp.inject({ method: 'POST', url: '/logout', headers: { cookie: bobOnConfidential.jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  assert.equal(await status(publicApp, alice.jar.header), 200)
  assert.equal(captured.logins.length, 4)

  const dump = await dumpRedis(await redis.client())
  const types = dump.map(({ key, type }) => `${key.replace(/\{[^}]*\}/, '{…}')} ${type}`)
  t.diagnostic(`keys in Redis: ${types.join(', ')}`)
  for (const prefix of [PUBLIC_PREFIX, CONFIDENTIAL_PREFIX]) {
    assert.ok(types.includes(`${prefix}s:{…} string`), types.join('\n'))
    assert.ok(types.includes(`${prefix}u:{…} set`), types.join('\n'))
  }
  assert.ok(types.includes(`${CONFIDENTIAL_PREFIX}revoked zset`), types.join('\n'))

  const secrets: Array<[string, string]> = []
  for (const login of captured.logins) {
    secrets.push([`${login.username}'s access token`, login.accessToken], [`${login.username}'s user id`, login.sub])
    if (login.idToken !== undefined) secrets.push([`${login.username}'s ID token`, login.idToken])
    if (login.refreshToken !== undefined) secrets.push([`${login.username}'s refresh token`, login.refreshToken])
  }
  assert.equal(secrets.length, 16)
  for (const user of idp.users) {
    if (user.email !== undefined) secrets.push([`${user.username}'s e-mail address`, user.email])
  }
  for (const { key, type, ttl, values } of dump) {
    for (const text of [key, ...values]) {
      for (const [what, secret] of secrets) assert.ok(!text.includes(secret), `${what} in ${key}`)
      // A JWT's header and payload, both JSON objects in base64url: `eyJ…` twice around a dot. (Three letters `eyJ`
      // alone turn up in random ciphertext now and then.)
      assert.doesNotMatch(text, JWT_LOOKING, `a JWT-looking string in ${key}`)
      assert.ok(!text.includes('@'), `an e-mail-looking string in ${key}`)
    }
    assert.ok(ttl > 0, `${key} (${type}) has TTL ${ttl}: every key the store writes expires`)
  }

  // The sign-out's messages: an ended session and a signed-out token id, on the confidential app's channel only.
  await waitFor(() => messages.length >= 2, 'the sign-out\'s messages reach the listener')
  assert.deepEqual([...new Set(messages.map(({ channel }) => channel))], [`${CONFIDENTIAL_PREFIX}events`])
  assert.deepEqual(messages.map(({ message }) => (JSON.parse(message) as { t: string }).t).sort(), ['end', 'revoke'])
  for (const { message } of messages) {
    for (const [what, secret] of secrets) assert.ok(!message.includes(secret), `${what} in a message: ${message}`)
    assert.ok(!JWT_LOOKING.test(message) && !message.includes('@'), message)
  }
})

test('a session is gone from Redis once it reaches maxSessionAge, and its cookie is refused by every instance', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const probe = await redis.client()
  const a = await buildInstance(t, idp, redis, { maxSessionAge: 5 })
  const b = await buildInstance(t, idp, redis, { maxSessionAge: 5 })
  const { jar } = await login(a, idp)
  const signedIn = performance.now()
  const sessionKey = `${PUBLIC_PREFIX}s:{${sidOf(jar)}}`
  const ttl = await probe.pTTL(sessionKey)
  assert.ok(ttl > 0 && ttl <= 5000, `the session key expires with the session: PTTL ${ttl}`)
  assert.equal(await status(a, jar.header), 200)
  assert.equal(await status(b, jar.header), 200)

  // Real time: Redis expires the key by its own clock. Bounded: well past the 5 s (a loaded machine is slow to sign in).
  const gone = await waitFor(async () => await probe.exists(sessionKey) === 0, 'the session key expires', 10_000, 50)
  t.diagnostic(`session key gone ${(performance.now() - signedIn).toFixed(0)} ms after sign-in (waited ${gone.toFixed(0)} ms)`)
  assert.ok(performance.now() - signedIn >= 4000, 'not before its time')
  assert.deepEqual(await probe.keys(`${PUBLIC_PREFIX}s:*`), [])
  // The index is written just after the session, with the same lifetime: it goes within moments of it.
  const indexGone = await waitFor(async () => (await probe.keys(`${PUBLIC_PREFIX}u:*`)).length === 0, 'the user\'s index expires with the session', 3000, 50)
  t.diagnostic(`the user's index went ${indexGone.toFixed(0)} ms after the session`)
  for (const app of [a, b]) {
    const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(me.statusCode, 401, me.body)
  }
  // A new instance, which never held the session in memory, refuses it too: the store has nothing.
  const c = await buildInstance(t, idp, redis, { maxSessionAge: 5 })
  assert.equal(await status(c, jar.header), 401)
})
