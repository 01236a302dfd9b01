/**
 * Sign-out across a fleet: three instances of an app (A, B, C) with fastify-cognito on one Redis, in this process,
 * each with its own Redis connection (and the store's own subscription connection), driven with app.inject. The
 * IdP is the benchmark's local Cognito (in the parent process, over HTTP).
 *
 * For each of SIGN_OUTS fresh sessions: sign in on A through the real login flow (`loginAs`), make A and B
 * accept the session cookie and its access token as a Bearer token (twice each, so that both sit in their memory
 * caches: from then on neither asks Redis), then POST /logout on C, and from the moment that request starts, poll
 * A and B every ~1 ms with the old cookie and the old Bearer token until all four answers are 401. Run by
 * bench/run.ts as a child process (`node --import tsx bench/fleet.ts`, input as JSON in the file BENCH_INPUT); prints
 * one JSON line (FleetResult).
 */
import { readFile } from 'node:fs/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import { createClient, type RedisClientType } from 'redis'
import fastifyCognito from '../lib/index.js'
import { redisStore } from '../lib/redis/index.js'
import { loginAs } from '../lib/testing/index.js'
import { CLIENT_ID, median, REDIRECT_URI, SESSION_SECRET, USER_POOL_ID } from './common.js'
import { STORE_COOKIE } from './fixtures.js'

export interface FleetInput {
  redisUrl: string
  domain: string
  issuer: string
  jwksUri: string
  username: string
  password: string
  signOuts: number
}

/** Milliseconds from the start of POST /logout on C, one entry per sign-out. */
export interface FleetResult {
  signOuts: number
  instances: number
  /** Until A and B both refused the old session cookie and the old access token as a Bearer token. */
  refusedEverywhere: number[]
  /** Until A and B both refused the old session cookie. */
  cookieRefused: number[]
  /** Until A and B both refused the old access token as a Bearer token. */
  bearerRefused: number[]
  /** Until C answered the POST /logout (its whole flow, the revocation of the refresh token at the IdP included). */
  logoutAnswered: number[]
  /**
   * Until the fleet's "session ended" and "token revoked" messages reached an observer subscribed to the store's
   * channel on a connection of its own in this process: what Redis pub/sub itself takes, without the polling.
   */
  endMessage: number[]
  revokeMessage: number[]
  /** Poll rounds (4 requests each) per sign-out, median: how fine the timing is. */
  pollsMedian: number
  /** Sign-outs not refused everywhere within TIMEOUT_MS (counted as TIMEOUT_MS above). */
  timeouts: number
  timeoutMs: number
  /** Answers that should not happen (a refused cookie or token accepted again, C accepting them): at most 10. */
  anomalies: string[]
}

const TIMEOUT_MS = 2000
const APP_ORIGIN = new URL(REDIRECT_URI).origin
/** The store's pub/sub channel: the default key prefix (`fastify-cognito:<clientId>:`) and `events`. */
const CHANNEL = `fastify-cognito:${CLIENT_ID}:events`

interface Instance {
  app: FastifyInstance
  client: RedisClientType
}

async function instance (input: FleetInput, onAccessToken?: (token: string) => void): Promise<Instance> {
  const client: RedisClientType = createClient({ url: input.redisUrl })
  client.on('error', () => {})
  await client.connect()
  const app = Fastify()
  await app.register(fastifyCognito, {
    userPoolId: USER_POOL_ID,
    clientId: CLIENT_ID,
    domain: input.domain,
    issuer: input.issuer,
    jwksUri: input.jwksUri,
    redirectUri: REDIRECT_URI,
    sessionSecret: SESSION_SECRET,
    sessionStore: redisStore({ client }),
    // The only way an app sees the tokens of a sign-in: here, to replay the access token as a Bearer token.
    ...(onAccessToken === undefined ? {} : { onLogin: (_request, { tokens }) => { onAccessToken(tokens.accessToken) } })
  })
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub ?? null }))
  await app.ready()
  return { app, client }
}

async function status (app: FastifyInstance, headers: Record<string, string>): Promise<number> {
  return (await app.inject({ url: '/me', headers })).statusCode
}

// Run by bench/run.ts: if it goes (a signal), this ends too rather than wait on a Redis that went with it. Its pid
// comes in BENCH_PARENT: it may be gone before this module has even loaded, and process.ppid is then another's.
const parent = Number(process.env.BENCH_PARENT ?? process.ppid)
setInterval(() => {
  try {
    process.kill(parent, 0)
  } catch {
    process.exit(1)
  }
}, 200).unref()

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function main (): Promise<void> {
  const input = JSON.parse(await readFile(process.env.BENCH_INPUT as string, 'utf8')) as FleetInput
  let lastAccessToken: string | undefined
  const fleet: Instance[] = []
  const observer: RedisClientType = createClient({ url: input.redisUrl })
  observer.on('error', () => {})
  let started = 0
  let endAt = NaN
  let revokeAt = NaN
  try {
    await observer.connect()
    await observer.subscribe(CHANNEL, (message) => {
      const at = performance.now() - started
      const type = (JSON.parse(message) as { t?: unknown }).t
      if (type === 'end' && Number.isNaN(endAt)) endAt = at
      if (type === 'revoke' && Number.isNaN(revokeAt)) revokeAt = at
    })
    fleet.push(await instance(input, (token) => { lastAccessToken = token }))
    fleet.push(await instance(input))
    fleet.push(await instance(input))
    const [a, b, c] = fleet.map((member) => member.app) as [FastifyInstance, FastifyInstance, FastifyInstance]
    const result: FleetResult = {
      signOuts: input.signOuts,
      instances: fleet.length,
      refusedEverywhere: [],
      cookieRefused: [],
      bearerRefused: [],
      logoutAnswered: [],
      endMessage: [],
      revokeMessage: [],
      pollsMedian: NaN,
      timeouts: 0,
      timeoutMs: TIMEOUT_MS,
      anomalies: []
    }
    const polls: number[] = []
    for (let round = 0; round < input.signOuts; round++) {
      lastAccessToken = undefined
      const jar = await loginAs(a, { username: input.username, password: input.password })
      const ticket = jar.split('; ').find((pair) => pair.startsWith(`${STORE_COOKIE}=`))
      if (ticket === undefined) throw new Error(`the login set no ${STORE_COOKIE} cookie: ${jar}`)
      if (lastAccessToken === undefined) throw new Error('onLogin did not see the tokens')
      const cookie = { cookie: ticket }
      const bearer = { authorization: `Bearer ${lastAccessToken as string}` }
      const checks: Array<[FastifyInstance, Record<string, string>, 'cookie' | 'bearer']> = [[a, cookie, 'cookie'], [a, bearer, 'bearer'], [b, cookie, 'cookie'], [b, bearer, 'bearer']]
      for (let pass = 0; pass < 2; pass++) {
        for (const [app, headers, kind] of checks) {
          const answer = await status(app, headers)
          if (answer !== 200) throw new Error(`sign-out ${round + 1}: before the logout, a ${kind} request answered ${answer}`)
        }
      }

      const refusedAt: number[] = checks.map(() => NaN)
      let logoutAt = NaN
      endAt = NaN
      revokeAt = NaN
      started = performance.now()
      const logout = c.inject({ method: 'POST', url: '/logout', headers: { ...cookie, origin: APP_ORIGIN } }).then((response) => {
        logoutAt = performance.now() - started
        return response
      })
      // Awaited after the polling; a rejection meanwhile must not count as unhandled.
      logout.catch(() => {})
      let rounds = 0
      while (refusedAt.some(Number.isNaN) && performance.now() - started < TIMEOUT_MS) {
        rounds++
        for (let i = 0; i < checks.length; i++) {
          if (!Number.isNaN(refusedAt[i] as number)) continue
          const [app, headers, kind] = checks[i] as [FastifyInstance, Record<string, string>, string]
          const answer = await status(app, headers)
          if (answer === 401) refusedAt[i] = performance.now() - started
          else if (answer !== 200) throw new Error(`sign-out ${round + 1}: a ${kind} request answered ${answer} after the logout`)
        }
        if (refusedAt.some(Number.isNaN)) await sleep(1)
      }
      const out = await logout
      if (out.statusCode !== 302) throw new Error(`sign-out ${round + 1}: POST /logout answered ${out.statusCode}: ${out.body}`)
      // Refused once is refused for good: checked once more on every instance, C included.
      const names = ['A', 'A', 'B', 'B', 'C', 'C']
      const again: Array<[FastifyInstance, Record<string, string>, string]> = [...checks, [c, cookie, 'cookie'], [c, bearer, 'bearer']]
      for (const [i, [app, headers, kind]] of again.entries()) {
        const answer = await status(app, headers)
        if (answer !== 401 && result.anomalies.length < 10) {
          result.anomalies.push(`sign-out ${round + 1}: ${names[i] as string} answered ${answer} to the old ${kind} after the logout` +
            (i < 4 && !Number.isNaN(refusedAt[i] as number) ? ', having refused it before' : ''))
        }
      }
      polls.push(rounds)
      const at = (i: number): number => Number.isNaN(refusedAt[i] as number) ? TIMEOUT_MS : refusedAt[i] as number
      if (refusedAt.some(Number.isNaN)) result.timeouts++
      result.cookieRefused.push(Math.max(at(0), at(2)))
      result.bearerRefused.push(Math.max(at(1), at(3)))
      result.refusedEverywhere.push(Math.max(at(0), at(1), at(2), at(3)))
      result.logoutAnswered.push(logoutAt)
      result.endMessage.push(endAt)
      result.revokeMessage.push(revokeAt)
    }
    result.pollsMedian = median(polls)
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    if (observer.isOpen) await observer.close()
    for (const { app, client } of fleet) {
      await app.close()
      if (client.isOpen) await client.close()
    }
  }
}

await main()
