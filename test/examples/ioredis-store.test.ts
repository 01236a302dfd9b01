import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { ioredisStore } from '../../examples/ioredis-store.js'
import { bearer, login, startIdp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildInstance } from '../fleet/helpers.js'

const LOGOUT_HEADERS = { origin: 'http://localhost:3000' }

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
async function eventually (check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// The README's ioredis adapter, as a user would plug it in: two instances on one real Redis through ioredis.
test('examples/ioredis-store.ts: sessions across instances, a Redis restart, and a sign-out that reaches the other instance afterwards', { timeout: 60_000 }, async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t, { persistence: true })
  const connections: Redis[] = []
  const connect = (): Redis => {
    const connection = new Redis(redis.port, '127.0.0.1', { retryStrategy: () => 100, lazyConnect: false })
    connection.on('error', () => {})
    connections.push(connection)
    return connection
  }
  t.after(() => { for (const connection of connections) connection.disconnect() })
  const accessTokens: string[] = []
  const options = { onLogin: (_request: unknown, { tokens }: { tokens: { accessToken: string } }) => { accessTokens.push(tokens.accessToken) } }
  const a = await buildInstance(t, idp, redis, { sessionStore: ioredisStore(connect()), ...options })
  const b = await buildInstance(t, idp, redis, { sessionStore: ioredisStore(connect()), ...options })

  const { jar } = await login(a, idp)
  assert.equal((await b.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const keys = await connections[0]!.keys('fastify-cognito:*')
  assert.ok(keys.some((key) => key.includes(':s:{')), 'the session is stored under the default prefix')

  // Redis restarts (with persistence): the session survives and the subscriptions come back by themselves.
  await redis.stop()
  await redis.start()
  await eventually(async () => (await a.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode === 200)
  await eventually(async () => (await b.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode === 200)

  // A sign-out on B after the restart reaches A: the session and its access token as a Bearer token are refused.
  // Each instance answers 503 from its resubscription until it has loaded the signed-out tokens again (fail closed).
  const token = accessTokens[0] as string
  for (const app of [a, b]) await eventually(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 200)
  const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, ...LOGOUT_HEADERS } })
  assert.equal(out.statusCode, 302)
  await eventually(async () => (await a.inject({ url: '/me', headers: bearer(token) })).statusCode === 401, 1000)
  assert.equal((await a.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
})
