import type { CognitoSessionStore, CognitoStoreSubscriber, CognitoStoreSubscription } from '../types-store.js'

/**
 * `fastify-cognito/redis`: the session store on Redis through node-redis (`redis` v5 or later), the client Redis
 * recommends for new code. The app passes a client it already has, connected; the store opens one more connection
 * of its own (`client.duplicate()`) for the subscription, and closes only that one.
 *
 * Only `import type` of node-redis here: the client is the app's, so this module loads nothing of node-redis, and an
 * app without a store loads none of this module either.
 */

/** The part of a node-redis client (`createClient()` or `createCluster()`) the store uses. */
export interface NodeRedisClient {
  get: (key: string) => Promise<unknown>
  set: (key: string, value: string, options?: NodeRedisSetOptions) => Promise<unknown>
  del: (keys: string | string[]) => Promise<unknown>
  eval: (script: string, options: { keys: string[], arguments: string[] }) => Promise<unknown>
  publish: (channel: string, message: string) => Promise<unknown>
  duplicate: () => NodeRedisSubscriberClient
}

interface NodeRedisSetOptions {
  expiration?: { type: 'EX' | 'PX', value: number } | 'KEEPTTL'
  condition?: 'NX' | 'XX'
}

/** The connection `duplicate()` gives: connected, subscribed and closed by the store. */
export interface NodeRedisSubscriberClient {
  connect: () => Promise<unknown>
  subscribe: (channel: string, listener: (message: string) => void) => Promise<unknown>
  on: (event: 'error' | 'ready' | 'reconnecting' | 'end', listener: (...args: unknown[]) => void) => unknown
  close?: () => Promise<unknown>
  destroy?: () => unknown
}

export interface RedisStoreOptions {
  /** A connected node-redis client (`createClient()` or `createCluster()`), with an `error` listener of the app's. */
  client: NodeRedisClient
  /**
   * Prefix of every key and of the pub/sub channel. Default `fastify-cognito:<clientId>:`: two apps (app clients) on
   * one Redis never collide. Must not contain `{` or `}` (the keys' own hash tags route them in Redis Cluster).
   */
  prefix?: string | undefined
}

/** SADD, then EXPIRE only when that extends the set's life: one atomic step on one key. */
const ADD_TO_SET = `redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1`

/** Deletes the lock only if its owner still holds it. */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`

/** Adds a member scored by its expiry, drops expired members, and lets the set expire with its last member. */
const ADD_EXPIRING = `redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end
return 1`

/** Members scored after now, with their scores, as one flat list. */
const LIVE_MEMBERS = 'return redis.call(\'ZRANGEBYSCORE\', KEYS[1], \'(\' .. ARGV[1], \'+inf\', \'WITHSCORES\')'

function stringOrNull (value: unknown): string | null {
  if (value === null || value === undefined) return null
  return typeof value === 'string' ? value : String(value)
}

/** The Redis session store: `sessionStore: redisStore({ client })`. */
export function redisStore (options: RedisStoreOptions): CognitoSessionStore {
  const { client, prefix } = options
  if (typeof client !== 'object' || client === null || typeof client.eval !== 'function' || typeof client.duplicate !== 'function') {
    throw new TypeError('fastify-cognito/redis: "client" must be a node-redis client (createClient() or createCluster() of redis v5 or later)')
  }
  if (prefix !== undefined && (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 200)) {
    throw new TypeError('fastify-cognito/redis: "prefix" must be a string of at most 200 characters without "{" or "}"')
  }
  return Object.freeze({
    keyPrefix: prefix,
    get: async (key: string) => stringOrNull(await client.get(key)),
    create: async (key: string, value: string, ttlSeconds: number) => {
      await client.set(key, value, { expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) } })
    },
    replace: async (key: string, value: string) => stringOrNull(await client.set(key, value, { expiration: 'KEEPTTL', condition: 'XX' })) !== null,
    delete: async (key: string) => Number(await client.del(key)) > 0,
    addToSet: async (key: string, member: string, ttlSeconds: number) => {
      await client.eval(ADD_TO_SET, { keys: [key], arguments: [member, String(Math.max(1, Math.ceil(ttlSeconds)))] })
    },
    removeFromSet: async (key: string, member: string) => {
      await client.eval('return redis.call(\'SREM\', KEYS[1], ARGV[1])', { keys: [key], arguments: [member] })
    },
    setMembers: async (key: string) => {
      const members = await client.eval('return redis.call(\'SMEMBERS\', KEYS[1])', { keys: [key], arguments: [] })
      return Array.isArray(members) ? members.map(String) : []
    },
    acquireLock: async (key: string, owner: string, ttlMs: number) =>
      stringOrNull(await client.set(key, owner, { expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) }, condition: 'NX' })) !== null,
    releaseLock: async (key: string, owner: string) => {
      await client.eval(RELEASE_LOCK, { keys: [key], arguments: [owner] })
    },
    addExpiring: async (key: string, member: string, expiresAtMs: number, nowMs: number) => {
      await client.eval(ADD_EXPIRING, { keys: [key], arguments: [member, String(Math.ceil(expiresAtMs)), String(Math.floor(nowMs))] })
    },
    liveMembers: async (key: string, nowMs: number) => {
      const flat = await client.eval(LIVE_MEMBERS, { keys: [key], arguments: [String(Math.floor(nowMs))] })
      const members: Array<[string, number]> = []
      if (!Array.isArray(flat)) return members
      for (let i = 0; i + 1 < flat.length; i += 2) members.push([String(flat[i]), Number(flat[i + 1])])
      return members
    },
    publish: async (channel: string, message: string) => {
      await client.publish(channel, message)
    },
    subscribe: async (channel: string, subscriber: CognitoStoreSubscriber) => await subscribeOn(client.duplicate(), channel, subscriber)
  })
}

/** Subscribes on a connection of its own; reports it down on the first error or reconnection, up when ready again. */
async function subscribeOn (connection: NodeRedisSubscriberClient, channel: string, subscriber: CognitoStoreSubscriber): Promise<CognitoStoreSubscription> {
  let up = false
  let closing = false
  const markDown = (): void => {
    if (!up || closing) return
    up = false
    subscriber.down()
  }
  // Without an error listener node-redis would throw the error out of the event emitter and end the process.
  connection.on('error', markDown)
  connection.on('reconnecting', markDown)
  connection.on('end', markDown)
  // The app closed while this subscription was still connecting (node-redis retries a connection for ever).
  const { signal } = subscriber
  const abandon = async (): Promise<void> => {
    closing = true
    await discard(connection)
  }
  signal?.addEventListener('abort', abandon)
  try {
    signal?.throwIfAborted()
    await connection.connect()
    // A node-redis connection destroyed while connecting resolves connect(), and a SUBSCRIBE on it never answers.
    signal?.throwIfAborted()
    // node-redis resubscribes before it reports 'ready' again: then the subscription is live.
    await connection.subscribe(channel, (message) => { subscriber.message(message) })
    signal?.throwIfAborted()
  } catch (error) {
    // Nobody else holds this connection: left open it would reconnect and resubscribe for ever, and keep the
    // process alive after the app closed (Redis refused the SUBSCRIBE: an ACL without channels; the app closed).
    closing = true
    await discard(connection)
    throw error
  } finally {
    signal?.removeEventListener('abort', abandon)
  }
  up = true
  connection.on('ready', () => {
    if (up || closing) return
    up = true
    subscriber.up()
  })
  return {
    close: async () => {
      closing = true
      if (typeof connection.close === 'function') await connection.close()
      else connection.destroy?.()
    }
  }
}

/** Closes a connection that failed; one that is closed already (a failed connect) throws, which changes nothing. */
async function discard (connection: NodeRedisSubscriberClient): Promise<void> {
  try {
    if (typeof connection.destroy === 'function') connection.destroy()
    else await connection.close?.()
  } catch {}
}
