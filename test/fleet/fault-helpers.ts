import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import { createClient, type RedisClientType } from 'redis'
import fastifyCognito from '../../lib/index.js'
import { redisStore, type NodeRedisClient } from '../../lib/redis/index.js'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { CognitoSessionStore } from '../../lib/types-store.js'
import { CLIENT_IDS, pluginOptions, type CookieJar, type TestOptions } from '../helpers/app.js'

/** The ticket cookie of a server-side session (plain HTTP redirect URI: no `__Host-` prefix). */
export const SID_COOKIE = 'cognito_sid'
/**
 * A key prefix of its own for one test: nothing else on the machine (another test's instances, a client of another
 * run reconnecting to a port that a new Redis took over) shares its keys or its channel.
 */
export function uniquePrefix (): string {
  return `fastify-cognito-test:${randomBytes(6).toString('hex')}:`
}
export const STORE_UNAVAILABLE = 'FST_COGNITO_SESSION_STORE_UNAVAILABLE'

/** The ticket (`<sid>.<secret>`) a jar holds. */
export function ticketOf (jar: CookieJar): string {
  const ticket = jar.cookies.get(SID_COOKIE)
  if (ticket === undefined) throw new Error(`the jar holds no ${SID_COOKIE} cookie`)
  return ticket
}

/** The Redis key of the session a jar's ticket names. */
export function sessionKeyOf (prefix: string, jar: CookieJar): string {
  return `${prefix}s:{${ticketOf(jar).slice(0, 43)}}`
}

/** The `set-cookie` lines of a response. */
export function setCookies (response: LightMyRequestResponse | { headers: Record<string, unknown> }): string[] {
  const value = response.headers['set-cookie']
  if (value === undefined) return []
  return Array.isArray(value) ? value.map(String) : [String(value)]
}

/** Whether a response sets (or clears) the cookie `name`. */
export function touchesCookie (response: LightMyRequestResponse | { headers: Record<string, unknown> }, name = SID_COOKIE): boolean {
  return setCookies(response).some((line) => line.startsWith(`${name}=`))
}

/** Whether a response clears the cookie `name` (an empty value or `Max-Age=0`). */
export function clearsCookie (response: LightMyRequestResponse | { headers: Record<string, unknown> }, name = SID_COOKIE): boolean {
  return setCookies(response).some((line) => line.startsWith(`${name}=;`) || (line.startsWith(`${name}=`) && /;\s*max-age=0(;|$)/i.test(line)))
}

/** The tokens of every sign-in, as the app's `onLogin` hook sees them. */
export interface TokenRecorder {
  readonly accessTokens: string[]
  readonly refreshTokens: string[]
  /** Every token of every sign-in (access, ID, refresh). */
  readonly secrets: string[]
  onLogin: TestOptions['onLogin']
}

export function tokenRecorder (): TokenRecorder {
  const accessTokens: string[] = []
  const refreshTokens: string[] = []
  const secrets: string[] = []
  return {
    accessTokens,
    refreshTokens,
    secrets,
    onLogin: (_request, { tokens }) => {
      accessTokens.push(tokens.accessToken)
      if (tokens.refreshToken !== undefined) refreshTokens.push(tokens.refreshToken)
      for (const token of [tokens.accessToken, tokens.idToken, tokens.refreshToken]) if (token !== undefined) secrets.push(token)
    }
  }
}

/** Whether the local Cognito still honours a refresh token of the public client (a refresh_token grant). */
export async function refreshTokenIsLive (idp: LocalCognito, refreshToken: string): Promise<boolean> {
  const response = await fetch(`${idp.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: CLIENT_IDS.public, refresh_token: refreshToken })
  })
  await response.arrayBuffer()
  return response.status === 200
}

/**
 * A node-redis client that connects in the background (`connect()` is not awaited): for a Redis that is stopped
 * when the app starts. It reconnects by itself, as the helper's clients do, and is destroyed after the test.
 */
export function backgroundClient (t: TestContext, url: string): RedisClientType {
  const client: RedisClientType = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) } })
  client.on('error', () => {})
  client.connect().catch(() => {})
  t.after(() => { if (client.isOpen) client.destroy() })
  return client
}

export interface StoreAppOptions {
  /** The session store; default `redisStore({ client, prefix })`. */
  store?: CognitoSessionStore
  client?: RedisClientType
  prefix?: string
  logger?: { level: string, stream: { write: (line: string) => void } }
  overrides?: Partial<TestOptions>
  /** Whether to wait for `app.ready()` (default true). */
  ready?: boolean
}

/** An app on a session store with the fleet's routes (`/me`, `/maybe`, `POST /logout-everywhere`), closed after the test. */
export async function buildStoreApp (t: TestContext, idp: LocalCognito, options: StoreAppOptions): Promise<FastifyInstance> {
  const app = Fastify(options.logger === undefined ? {} : { logger: options.logger })
  t.after(async () => { await app.close() })
  const store = options.store ?? (options.client === undefined ? undefined : redisStore({ client: options.client, prefix: options.prefix }))
  if (store === undefined) throw new Error('buildStoreApp needs a store or a client')
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { sessionStore: store, ...options.overrides }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  app.get('/maybe', { preHandler: app.cognito.requireAuth({ optional: true }) }, async (request) => ({ sub: request.user?.sub ?? null }))
  app.post('/logout-everywhere', async (request, reply) => await request.cognito.logoutEverywhere(reply))
  if (options.ready !== false) await app.ready()
  return app
}

/** Polls `probe` until it returns something other than undefined; throws after `timeoutMs`. */
export async function waitFor<T> (what: string, probe: () => Promise<T | undefined>, { timeoutMs = 5000, intervalMs = 25 }: { timeoutMs?: number, intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** `inject` timed: the response and how long it took, ms. */
export async function timedInject (app: FastifyInstance, options: InjectOptions): Promise<{ response: LightMyRequestResponse, ms: number }> {
  const started = performance.now()
  const response = await app.inject(options)
  return { response, ms: performance.now() - started }
}

/** `PUBSUB NUMSUB <prefix>events`: how many connections Redis has subscribed to the registration's channel. */
export async function subscribers (client: RedisClientType, prefix: string): Promise<number> {
  const reply = await client.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}events`])
  return Array.isArray(reply) ? Number(reply[1]) : 0
}

/** A connected node-redis client for `url` (which may name an ACL user), destroyed after the test. */
export async function connectedClient (t: TestContext, url: string): Promise<RedisClientType> {
  const client = backgroundClient(t, url)
  if (!client.isReady) await new Promise((resolve) => client.once('ready', resolve))
  return client
}

/** A store whose subscription reports its state changes to the test (the store itself is the real one). */
export interface ObservedStore {
  readonly store: CognitoSessionStore
  /** `subscribed`, then `down` / `up` as the store reports them. */
  readonly events: string[]
}

export function observeSubscription (store: CognitoSessionStore): ObservedStore {
  const events: string[] = []
  return {
    events,
    store: {
      ...store,
      subscribe: async (channel, subscriber) => {
        const subscription = await store.subscribe(channel, {
          message: (message) => { subscriber.message(message) },
          down: () => { events.push('down'); subscriber.down() },
          up: () => { events.push('up'); subscriber.up() },
          signal: subscriber.signal
        })
        events.push('subscribed')
        return subscription
      }
    }
  }
}

/**
 * The app's client, as the store sees it, with every connection the store opens with `duplicate()` kept for the
 * test to look at (those left open are destroyed after the test, whatever it found).
 */
export function watchDuplicates (t: TestContext, client: RedisClientType): { client: NodeRedisClient, duplicates: RedisClientType[] } {
  const duplicates: RedisClientType[] = []
  t.after(() => { for (const copy of duplicates) if (copy.isOpen) copy.destroy() })
  const watched = new Proxy(client, {
    get (target, property) {
      if (property === 'duplicate') {
        return () => {
          const copy = target.duplicate()
          duplicates.push(copy)
          return copy
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { client: watched as unknown as NodeRedisClient, duplicates }
}
