/**
 * What the race and isolation tests of the fleet need beyond helpers.ts: a clock shared by Cognito and the instances,
 * a proxy that holds Cognito's refresh answers, bounded polling, Redis keys and subscribers.
 */
import { request as httpRequest, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { RedisClientType } from 'redis'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CookieJar } from '../helpers/app.js'

/**
 * A clock shared by the local Cognito and every instance, running with real time plus an offset: moving it ahead
 * expires tokens without sleeping, and the plugin's own deadlines (the refresh lock's wait) still pass.
 * Only ever moved forward: the revocation list's Redis expiry is set from this clock (PEXPIREAT), and Redis keeps
 * real time.
 */
export interface FleetClock {
  readonly now: () => number
  advance: (seconds: number) => void
}

export function fleetClock (): FleetClock {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    advance: (seconds) => { offset += seconds * 1000 }
  }
}

/**
 * An HTTP proxy in front of the local Cognito's domain that can hold the answers to refresh-token calls: Cognito has
 * issued the new tokens (and rotated the refresh token), but the instance that asked has not heard back. The test
 * decides when the answer arrives, so a race between instances is set up step by step instead of by timing.
 */
export interface RefreshGate {
  /** The proxy's URL: the plugin's `domain`. */
  readonly domain: string
  /** Refresh calls that went through the proxy (held or not). */
  readonly arrived: number
  /** Answers held now. */
  readonly held: number
  /** From now on, answers to refresh calls wait for `release()`. */
  close: () => void
  /** Delivers every held answer, and lets the next ones through. */
  release: () => void
  /** Resolves once `count` answers are held (rejects after `timeoutMs`). */
  waitForHeld: (count: number, timeoutMs?: number) => Promise<void>
}

export async function refreshGate (t: TestContext, idp: LocalCognito): Promise<RefreshGate> {
  const target = new URL(idp.domain)
  let closed = false
  let arrived = 0
  const queue: Array<() => void> = []
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      const isRefresh = incoming.url === '/oauth2/token' && new URLSearchParams(body.toString('utf8')).get('grant_type') === 'refresh_token'
      if (isRefresh) arrived++
      const hold = isRefresh && closed
      const upstream = httpRequest({
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host }
      }, (answer) => {
        const parts: Buffer[] = []
        answer.on('data', (chunk: Buffer) => { parts.push(chunk) })
        answer.on('end', () => {
          const deliver = (): void => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
            outgoing.end(Buffer.concat(parts))
          }
          if (hold) queue.push(deliver)
          else deliver()
        })
      })
      upstream.on('error', () => { outgoing.destroy() })
      upstream.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return {
    domain: `http://127.0.0.1:${port}`,
    get arrived () { return arrived },
    get held () { return queue.length },
    close: () => { closed = true },
    release: () => {
      closed = false
      for (const deliver of queue.splice(0)) deliver()
    },
    waitForHeld: async (count, timeoutMs = 5000) => {
      await eventually(() => {
        if (queue.length < count) throw new Error(`${queue.length} refresh answers held, waiting for ${count}`)
      }, { timeoutMs })
    }
  }
}

/** Runs `check` until it stops throwing, every 10 ms, for at most `timeoutMs`; then throws its last error. */
export async function eventually<T> (check: () => T | Promise<T>, { timeoutMs = 3000, intervalMs = 10 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() >= deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, intervalMs))
    }
  }
}

/** Every key in the Redis, sorted. */
export async function redisKeys (client: RedisClientType, pattern = '*'): Promise<string[]> {
  return (await client.keys(pattern)).sort()
}

/** How many connections are subscribed to `channel` (PUBSUB NUMSUB): one per running instance. */
export async function subscriberCount (client: RedisClientType, channel: string): Promise<number> {
  const counts = await client.pubSubNumSub(channel)
  return Number(counts[channel] ?? 0)
}

/** What the fleet apps' `/token` route answers: which access token authenticated the request. */
export interface TokenAnswer { sub: string, jti: string, originJti: string, exp: number }

/** The `/token` answer of a response that must be a 200. */
export function tokenOf (response: LightMyRequestResponse): TokenAnswer {
  assert.equal(response.statusCode, 200, response.body)
  return response.json()
}

/** A GET with the jar's cookies. */
export async function get (app: FastifyInstance, url: string, jar: CookieJar): Promise<LightMyRequestResponse> {
  return await app.inject({ url, headers: { cookie: jar.header } })
}
