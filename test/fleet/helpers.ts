import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import { pluginOptions, type ClientMode, type TestOptions } from '../helpers/app.js'
import type { RedisServer } from '../helpers/redis-server.js'

/** One instance of a fleet: an app with the plugin on a Redis store, its own Redis client, and a few guarded routes. */
export async function buildInstance (t: TestContext, idp: LocalCognito, redis: RedisServer, overrides: Partial<TestOptions> = {}, mode: ClientMode = 'public'): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  const client = await redis.client()
  await app.register(fastifyCognito, pluginOptions(idp, mode, { sessionStore: redisStore({ client }), ...overrides }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub, data: request.cognito.sessionData ?? null }))
  app.get('/maybe', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({ sub: request.user?.sub ?? null }))
  app.post('/logout-everywhere', async (request, reply) => await request.cognito.logoutEverywhere(reply))
  await app.ready()
  return app
}

/** Several instances sharing one Redis and one local Cognito. */
export async function buildFleet (t: TestContext, idp: LocalCognito, redis: RedisServer, count: number, overrides: Partial<TestOptions> = {}): Promise<FastifyInstance[]> {
  const fleet: FastifyInstance[] = []
  for (let i = 0; i < count; i++) fleet.push(await buildInstance(t, idp, redis, overrides))
  return fleet
}
