import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { redisStore } from '../../lib/redis/index.js'
import { APP_ORIGIN, bearer, startIdp, login } from '../helpers/app.js'
import { startRedisCluster } from '../helpers/redis-cluster.js'
import { buildInstance, captureLogins } from './helpers.js'
import { eventually } from './harness.js'

// The store on a real Redis Cluster (three masters): every operation's keys share a hash slot (the `{…}` tags), and
// the channel reaches the instances through the cluster's pub/sub.
test('Redis Cluster: a session made on A is read on B, refreshed once, and signed out everywhere', { timeout: 90_000 }, async (t) => {
  const idp = await startIdp(t)
  const cluster = await startRedisCluster(t)
  const logins = captureLogins()
  const instance = async (): Promise<FastifyInstance> => await buildInstance(t, idp, cluster.nodes[0]!, {
    sessionStore: redisStore({ client: await cluster.client() }),
    onLogin: logins.onLogin
  })
  const a = await instance()
  const b = await instance()

  const { jar } = await login(a, idp)
  const token = logins.last().accessToken
  for (const app of [a, b]) assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  // A refresh takes the session's lock (same slot as the session) and writes only an existing key.
  const refreshed = await b.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(refreshed.statusCode, 200, refreshed.body)
  assert.equal(idp.requests.tokenRefresh, 1)
  for (const app of [a, b]) assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  // Sign-out on B reaches A: the session and the first access token as a Bearer token are refused.
  const out = await b.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
  assert.equal(out.statusCode, 302, out.body)
  await eventually(async () => {
    assert.equal((await a.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    assert.equal((await a.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
  })

  // endSessions reads the user's index (its own slot) and ends what is there.
  const second = await login(a, idp)
  assert.equal(await b.cognito.endSessions(logins.last().sub), 1)
  await eventually(async () => { assert.equal((await a.inject({ url: '/me', headers: { cookie: second.jar.header } })).statusCode, 401) })
})
