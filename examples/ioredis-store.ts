/**
 * A `sessionStore` on ioredis (or @fastify/redis, which wraps it), for apps that already use ioredis: the README's
 * adapter, tested against a real redis-server by test/examples/ioredis-store.test.ts. The plugin encrypts every
 * value before a store sees it, bounds every call with `sessionStoreTimeout` and turns every failure into a 503.
 */
import type { Redis } from 'ioredis'
import type { CognitoSessionStore } from 'fastify-cognito'

export function ioredisStore (redis: Redis, prefix?: string): CognitoSessionStore {
  return {
    keyPrefix: prefix,
    get: async (key) => await redis.get(key),
    create: async (key, value, ttl) => { await redis.set(key, value, 'EX', Math.max(1, Math.ceil(ttl))) },
    replace: async (key, value) => (await redis.set(key, value, 'KEEPTTL', 'XX')) !== null,
    delete: async (key) => (await redis.del(key)) > 0,
    addToSet: async (key, member, ttl) => {
      await redis.eval("redis.call('SADD', KEYS[1], ARGV[1]) if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end", 1, key, member, Math.ceil(ttl))
    },
    removeFromSet: async (key, member) => { await redis.srem(key, member) },
    setMembers: async (key) => await redis.smembers(key),
    acquireLock: async (key, owner, ms) => (await redis.set(key, owner, 'PX', Math.ceil(ms), 'NX')) !== null,
    releaseLock: async (key, owner) => {
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end", 1, key, owner)
    },
    addExpiring: async (key, member, expiresAtMs, nowMs) => {
      await redis.eval("redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3]) local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES') if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end", 1, key, member, Math.ceil(expiresAtMs), Math.floor(nowMs))
    },
    liveMembers: async (key, nowMs) => {
      const flat = await redis.zrangebyscore(key, `(${Math.floor(nowMs)}`, '+inf', 'WITHSCORES')
      const members: Array<[string, number]> = []
      for (let i = 0; i + 1 < flat.length; i += 2) members.push([flat[i] as string, Number(flat[i + 1])])
      return members
    },
    publish: async (channel, message) => { await redis.publish(channel, message) },
    subscribe: async (channel, subscriber) => {
      const connection = redis.duplicate()
      let up = true
      connection.on('error', () => {})
      connection.on('close', () => { if (up) { up = false; subscriber.down() } })
      connection.on('ready', () => { if (!up) { up = true; subscriber.up() } })
      connection.on('message', (_channel: string, message: string) => { subscriber.message(message) })
      await connection.subscribe(channel)
      return { close: async () => { up = false; await connection.quit() } }
    }
  }
}
