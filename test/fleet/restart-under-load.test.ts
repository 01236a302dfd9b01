import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { Pool } from 'undici'
import { login, startIdp, type CookieJar } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildStoreApp, sessionKeyOf, SID_COOKIE, STORE_UNAVAILABLE, uniquePrefix, waitFor } from './fault-helpers.js'

const STORE_TIMEOUT = 200
const LOAD_MS = 15_000
const CONNECTIONS = 50
/** When Redis is stopped, from the start of the load, and for how long, ms. */
const OUTAGE_AT = 5000
const OUTAGE_MS = 2000
/** The last part of the load, ms, in which every answer must be a 200 again. */
const SETTLED_MS = 3000

/** GET /me with a session cookie until it is no longer a 503 (the instance is catching up), then that answer. */
async function settledAnswer (app: FastifyInstance, jar: CookieJar): Promise<{ statusCode: number, body: string }> {
  return await waitFor('a session request to be answered with something else than a 503', async () => {
    const response = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    return response.statusCode === 503 ? undefined : response
  }, { timeoutMs: 10_000, intervalMs: 50 })
}

test('a Redis restart with persistence loses no session', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t, { persistence: true })
  const prefix = uniquePrefix()
  const overrides = { sessionStoreTimeout: STORE_TIMEOUT }
  const fleet: FastifyInstance[] = []
  for (let i = 0; i < 3; i++) fleet.push(await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides }))
  const jars = [(await login(fleet[0]!, idp)).jar, (await login(fleet[1]!, idp, { username: 'bob' })).jar]
  for (const app of fleet) for (const jar of jars) assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)

  await redis.stop()
  await redis.start()
  // The sessions are in the restarted Redis (read back from its append-only file) ...
  const admin = await redis.client()
  for (const jar of jars) assert.equal(await admin.exists(sessionKeyOf(prefix, jar)), 1)
  // ... and every instance reads them from there (their caches were dropped with their subscriptions), as does an
  // instance that starts after the restart.
  fleet.push(await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides }))
  for (const [i, app] of fleet.entries()) {
    for (const jar of jars) {
      const response = await settledAnswer(app, jar)
      assert.equal(response.statusCode, 200, `instance ${i}: ${response.body}`)
    }
  }
})

interface Answer {
  /** ms since the start of the load, when the answer came. */
  at: number
  status: number
  code: string | undefined
  ms: number
  touchesCookie: boolean
}

test('under load, a Redis restart answers only 200 or a typed 503, clears no cookie and loses no session', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t, { persistence: true })
  const prefix = uniquePrefix()
  const overrides = { sessionStoreTimeout: STORE_TIMEOUT }
  const fleet: FastifyInstance[] = []
  const pools: Pool[] = []
  t.after(async () => { await Promise.all(pools.map(async (pool) => { await pool.destroy() })) })
  for (let i = 0; i < 3; i++) {
    const app = await buildStoreApp(t, idp, { prefix, client: await redis.client(), overrides })
    const origin = await app.listen({ port: 0, host: '127.0.0.1' })
    fleet.push(app)
    pools.push(new Pool(origin, { connections: Math.ceil(CONNECTIONS / 3) }))
  }
  const jars: CookieJar[] = []
  for (let i = 0; i < 6; i++) jars.push((await login(fleet[i % 3]!, idp, { username: i % 2 === 0 ? 'alice' : 'bob' })).jar)

  const answers: Answer[] = []
  const failures: string[] = []
  const started = performance.now()
  const deadline = started + LOAD_MS
  const worker = async (w: number): Promise<void> => {
    for (let k = 0; performance.now() < deadline; k++) {
      const pool = pools[(w + k) % pools.length]!
      const jar = jars[(w * 7 + k) % jars.length]!
      const sent = performance.now()
      try {
        const response = await pool.request({ path: '/me', method: 'GET', headers: { cookie: jar.header } })
        const text = await response.body.text()
        const setCookie = response.headers['set-cookie']
        const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]
        let code: string | undefined
        if (response.statusCode !== 200) {
          try {
            code = (JSON.parse(text) as { code?: string }).code
          } catch {
            code = undefined
          }
          if (response.statusCode !== 503 && failures.length < 10) failures.push(`${response.statusCode} ${text.slice(0, 200)}`)
        }
        const now = performance.now()
        answers.push({ at: now - started, status: response.statusCode, code, ms: now - sent, touchesCookie: lines.some((line) => line.startsWith(`${SID_COOKIE}=`)) })
      } catch (error) {
        if (failures.length < 10) failures.push(`request failed: ${error instanceof Error ? error.message : String(error)}`)
        answers.push({ at: performance.now() - started, status: 0, code: undefined, ms: performance.now() - sent, touchesCookie: false })
      }
    }
  }
  const outage = (async () => {
    // A schedule, not a wait for a condition: Redis goes away in the middle of the load.
    await sleep(OUTAGE_AT)
    const stoppingAt = performance.now() - started
    await redis.stop()
    const stoppedAt = performance.now() - started
    await sleep(OUTAGE_MS)
    await redis.start()
    return { stoppingAt, stoppedAt, startedAt: performance.now() - started }
  })()
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, w) => { await worker(w) }))
  const { stoppingAt, stoppedAt, startedAt } = await outage

  const byStatus = new Map<number, number>()
  for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1)
  const unavailable = answers.filter((answer) => answer.status === 503)
  const lastUnavailable = unavailable.reduce((last, answer) => Math.max(last, answer.at), 0)
  const slowest503 = unavailable.reduce((slowest, answer) => Math.max(slowest, answer.ms), 0)
  t.diagnostic(`answers: ${answers.length} in ${LOAD_MS} ms over ${CONNECTIONS} connections; by status: ${JSON.stringify(Object.fromEntries(byStatus))}`)
  t.diagnostic(`Redis told to stop at ${stoppingAt.toFixed(0)} ms, gone at ${stoppedAt.toFixed(0)} ms, up again at ${startedAt.toFixed(0)} ms; 503s from ${unavailable[0]?.at.toFixed(0) ?? '-'} to ${lastUnavailable.toFixed(0)} ms, the slowest in ${slowest503.toFixed(0)} ms`)
  const phases = { before: [0, stoppingAt], stopping: [stoppingAt, stoppedAt], down: [stoppedAt, startedAt], after: [startedAt, Infinity] } as const
  for (const [phase, [from, to]] of Object.entries(phases)) {
    const inPhase = answers.filter((answer) => answer.at >= from && answer.at < to)
    t.diagnostic(`${phase}: ${inPhase.filter((answer) => answer.status === 200).length} x 200, ${inPhase.filter((answer) => answer.status === 503).length} x 503`)
  }

  assert.deepEqual(failures, [], 'answers other than 200 and 503')
  assert.deepEqual([...byStatus.keys()].filter((status) => status !== 200 && status !== 503), [])
  assert.deepEqual(unavailable.filter((answer) => answer.code !== STORE_UNAVAILABLE).map((answer) => answer.code), [], '503s of another code')
  assert.ok(unavailable.length > 0, 'the outage was not seen: no 503')
  assert.ok(slowest503 < 2000, `a 503 took ${slowest503.toFixed(0)} ms`)
  assert.equal(answers.filter((answer) => answer.touchesCookie).length, 0, 'an answer set or cleared the session cookie')
  assert.ok(answers.some((answer) => answer.status === 200 && answer.at < stoppingAt), 'no 200 before the outage')
  const settled = answers.filter((answer) => answer.at >= LOAD_MS - SETTLED_MS)
  assert.ok(settled.length > 0)
  assert.deepEqual(settled.filter((answer) => answer.status !== 200).map((answer) => answer.status), [], `answers other than 200 in the last ${SETTLED_MS} ms`)

  // Every session, on every instance.
  const admin = await redis.client()
  assert.equal((await admin.keys(`${prefix}s:*`)).length, jars.length)
  for (const [i, app] of fleet.entries()) {
    for (const jar of jars) {
      const response = await settledAnswer(app, jar)
      assert.equal(response.statusCode, 200, `instance ${i}: ${response.body}`)
    }
  }
})
