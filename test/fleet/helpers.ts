import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { redisStore } from '../../lib/redis/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { RedisClientType } from 'redis'
import { pluginOptions, type ClientMode, type CookieJar, type TestOptions } from '../helpers/app.js'
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
  // Which access token authenticated the request: tells the tokens of two refreshes apart.
  app.get('/token', { preHandler: app.cognito.requireAuth() }, async (request) => ({
    sub: request.tokenPayload?.sub,
    jti: request.tokenPayload?.jti ?? null,
    originJti: request.tokenPayload?.origin_jti ?? null,
    exp: request.tokenPayload?.exp
  }))
  await app.ready()
  return app
}

/** Several instances sharing one Redis and one local Cognito. */
export async function buildFleet (t: TestContext, idp: LocalCognito, redis: RedisServer, count: number, overrides: Partial<TestOptions> = {}): Promise<FastifyInstance[]> {
  const fleet: FastifyInstance[] = []
  for (let i = 0; i < count; i++) fleet.push(await buildInstance(t, idp, redis, overrides))
  return fleet
}

/** The tokens Cognito gave at each sign-in, as the plugin's `onLogin` hook sees them (pass `onLogin` to the apps). */
export interface CapturedLogin {
  username: string
  sub: string
  accessToken: string
  idToken: string | undefined
  refreshToken: string | undefined
}

export function captureLogins (): { logins: CapturedLogin[], onLogin: NonNullable<TestOptions['onLogin']>, last: () => CapturedLogin } {
  const logins: CapturedLogin[] = []
  return {
    logins,
    onLogin: (_request, { user, tokens }) => {
      logins.push({ username: user.username ?? '', sub: user.sub, accessToken: tokens.accessToken, idToken: tokens.idToken, refreshToken: tokens.refreshToken })
    },
    last: () => {
      const login = logins.at(-1)
      if (login === undefined) throw new Error('no sign-in was captured')
      return login
    }
  }
}

/** The session id of a jar's ticket cookie (`cognito_sid` = `<sid>.<secret>`). */
export function sidOf (jar: CookieJar, cookieName = 'cognito_sid'): string {
  const ticket = jar.cookies.get(cookieName)
  if (ticket === undefined) throw new Error(`the jar has no ${cookieName} cookie`)
  return ticket.slice(0, ticket.indexOf('.'))
}

/**
 * Polls `condition` until it holds, at most `timeoutMs` (real time), yielding to the event loop between attempts;
 * resolves to the milliseconds it took, rejects with `label` when time is up.
 */
export async function waitFor (condition: () => boolean | Promise<boolean>, label: string, timeoutMs = 2000, intervalMs = 1): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await condition()) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${label}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** `INFO commandstats` as command -> calls. */
export async function commandCalls (redis: RedisServer): Promise<Map<string, number>> {
  const calls = new Map<string, number>()
  for (const [name, value] of await redis.info('commandstats')) {
    const match = /(?:^|,)calls=(\d+)/.exec(value)
    if (name.startsWith('cmdstat_') && match !== null) calls.set(name.slice('cmdstat_'.length), Number(match[1]))
  }
  return calls
}

/** What changed between two `commandCalls` readings, commands that did not change left out. */
export function callsBetween (before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {}
  for (const [name, calls] of after) {
    const change = calls - (before.get(name) ?? 0)
    if (change !== 0) delta[name] = change
  }
  return delta
}

/** One key of the whole Redis, with its type, its TTL (seconds, -1 none) and every string its value holds. */
export interface DumpedKey {
  key: string
  type: string
  ttl: number
  values: string[]
}

/** Every key of the Redis (SCAN), with its content: GET for strings, SMEMBERS for sets, ZRANGE for sorted sets. */
export async function dumpRedis (client: RedisClientType): Promise<DumpedKey[]> {
  const dumped: DumpedKey[] = []
  for await (const keys of client.scanIterator({ COUNT: 100 })) {
    for (const key of keys) {
      const type = await client.type(key)
      const ttl = await client.ttl(key)
      let values: string[]
      if (type === 'string') values = [(await client.get(key)) ?? '']
      else if (type === 'set') values = await client.sMembers(key)
      else if (type === 'zset') values = (await client.zRangeWithScores(key, 0, -1)).map(({ value, score }) => `${value} ${score}`)
      else throw new Error(`unexpected ${type} key in the store: ${key}`)
      dumped.push({ key, type, ttl, values })
    }
  }
  return dumped.sort((a, b) => a.key.localeCompare(b.key))
}
