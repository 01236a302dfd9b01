import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { TestContext } from 'node:test'
import { createClient, RESP_TYPES, type RedisClientType } from 'redis'
import { redisStore, type NodeRedisClient, type NodeRedisSubscriberClient } from '../../lib/redis/index.js'
import type { CognitoStoreSubscriber } from '../../lib/types-store.js'
import { startRedis } from '../helpers/redis-server.js'

// fastify-cognito/redis against a real redis-server (test/helpers/redis-server.ts): every operation of the store,
// read back with the app's own node-redis client. A hand-written client only where Redis itself cannot answer
// what is tested (a reply of another shape, a connection without close(), connection events in a chosen order).

async function waitFor (what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A subscriber that records what the store reports. */
function recorder (): CognitoStoreSubscriber & { messages: string[], events: string[] } {
  const messages: string[] = []
  const events: string[] = []
  return {
    messages,
    events,
    message: (message) => { messages.push(message) },
    down: () => { events.push('down') },
    up: () => { events.push('up') }
  }
}

/**
 * The app's client, as the store sees it, with every connection its duplicate() opens kept: destroyed after the
 * test if the test did not close it (a subscription left open would keep reconnecting).
 */
function trackingClient (t: TestContext, client: RedisClientType, options: { reconnect?: boolean } = {}): { client: NodeRedisClient, connections: RedisClientType[] } {
  const connections: RedisClientType[] = []
  t.after(() => {
    for (const connection of connections) if (connection.isOpen) connection.destroy()
  })
  return {
    connections,
    client: {
      get: client.get.bind(client),
      set: client.set.bind(client),
      del: client.del.bind(client),
      eval: client.eval.bind(client),
      publish: client.publish.bind(client),
      duplicate: () => {
        const connection = options.reconnect === false ? client.duplicate({ socket: { reconnectStrategy: false } }) : client.duplicate()
        connections.push(connection)
        return connection
      }
    }
  }
}

test('client must be a node-redis client and prefix a string of at most 200 characters without braces', () => {
  const client = { eval: async () => null, duplicate: () => ({}) } as unknown as NodeRedisClient
  for (const bad of [undefined, null, 'redis://localhost', 42, {}, { eval: async () => null }, { duplicate: () => ({}) }, { eval: 'x', duplicate: () => ({}) }]) {
    assert.throws(() => redisStore({ client: bad as unknown as NodeRedisClient }), {
      name: 'TypeError',
      message: 'fastify-cognito/redis: "client" must be a node-redis client (createClient() or createCluster() of redis v5 or later)'
    })
  }
  for (const bad of [42, null, 'app:{x}:', 'app:}', 'a'.repeat(201)]) {
    assert.throws(() => redisStore({ client, prefix: bad as unknown as string }), {
      name: 'TypeError',
      message: 'fastify-cognito/redis: "prefix" must be a string of at most 200 characters without "{" or "}"'
    })
  }
  assert.equal(redisStore({ client, prefix: 'a'.repeat(200) }).keyPrefix, 'a'.repeat(200))
  assert.equal(redisStore({ client, prefix: '' }).keyPrefix, '')
  const store = redisStore({ client })
  assert.equal(store.keyPrefix, undefined, 'no prefix: the plugin picks its default')
  assert.ok(Object.isFrozen(store))
})

test('get, create with a TTL in whole seconds, replace only an existing key keeping its TTL, delete', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client })

  assert.equal(await store.get('k'), null, 'never written')
  await store.create('k', 'v1', 100)
  assert.equal(await store.get('k'), 'v1')
  assert.equal(await client.ttl('k'), 100)

  await store.create('fraction', 'v', 2.1)
  assert.equal(await client.ttl('fraction'), 3, 'rounded up: never expires early')
  await store.create('zero', 'v', 0)
  assert.equal(await client.ttl('zero'), 1, 'at least a second (EX 0 is an error in Redis)')
  await store.create('k', 'v2', 50)
  assert.equal(await client.ttl('k'), 50, 'create overwrites, with the new TTL')

  await client.pExpire('k', 40_000)
  assert.equal(await store.replace('k', 'v3'), true)
  assert.equal(await store.get('k'), 'v3')
  const pttl = await client.pTTL('k')
  assert.ok(pttl > 39_000 && pttl <= 40_000, `the TTL is kept (${pttl} ms)`)

  assert.equal(await store.replace('missing', 'v'), false, 'a key that does not exist is not replaced...')
  assert.equal(await client.exists('missing'), 0, '...nor created')

  assert.equal(await store.delete('k'), true)
  assert.equal(await store.get('k'), null)
  assert.equal(await store.delete('k'), false, 'deleting again: it did not exist')

  await store.create('short', 'v', 1)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal(await store.get('short'), null, 'expired')
  assert.equal(await store.replace('short', 'v'), false, 'an expired key is not brought back')
})

test('get turns a reply that is not a string (a client mapping strings to Buffers) into a string', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  await client.set('k', 'välue')
  const buffers = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  assert.ok(Buffer.isBuffer(await buffers.get('k')), 'this client answers Buffers')
  const store = redisStore({ client: buffers as unknown as NodeRedisClient })
  assert.equal(await store.get('k'), 'välue')
  assert.equal(await store.get('nothing'), null)
})

test('addToSet adds and makes the set live at least ttlSeconds: it extends the TTL, never shortens it', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client })

  await store.addToSet('u', 'a', 100)
  assert.deepEqual(await client.sMembers('u'), ['a'])
  assert.equal(await client.ttl('u'), 100)
  await store.addToSet('u', 'b', 10)
  assert.deepEqual((await client.sMembers('u')).sort(), ['a', 'b'])
  assert.equal(await client.ttl('u'), 100, 'a shorter TTL does not shorten the set\'s life')
  await store.addToSet('u', 'c', 500)
  assert.equal(await client.ttl('u'), 500, 'a longer one extends it')
  await store.addToSet('u', 'a', 500.2)
  assert.equal(await client.ttl('u'), 501, 'whole seconds, rounded up')
  assert.equal(await client.sCard('u'), 3, 'a member added again is one member')

  await client.sAdd('forever', 'x')
  await store.addToSet('forever', 'y', 0)
  assert.equal(await client.ttl('forever'), 1, 'a set without expiry gets one (at least a second)')

  await store.removeFromSet('u', 'b')
  assert.deepEqual((await store.setMembers('u')).sort(), ['a', 'c'])
  await store.removeFromSet('u', 'not-a-member')
  await store.removeFromSet('no-such-set', 'a')
  assert.deepEqual(await store.setMembers('no-such-set'), [], 'no set: no members')
  await store.removeFromSet('u', 'a')
  await store.removeFromSet('u', 'c')
  assert.equal(await client.exists('u'), 0, 'an emptied set is gone')
})

test('acquireLock: SET NX PX, held by one owner until it expires; releaseLock only by its owner', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client })

  assert.equal(await store.acquireLock('l', 'owner-1', 5000), true)
  assert.equal(await client.get('l'), 'owner-1')
  const pttl = await client.pTTL('l')
  assert.ok(pttl > 4000 && pttl <= 5000, `expires in ttlMs (${pttl} ms)`)
  assert.equal(await store.acquireLock('l', 'owner-2', 5000), false, 'held: another owner cannot take it')
  assert.equal(await store.acquireLock('l', 'owner-1', 5000), false, 'nor the same owner again')

  await store.releaseLock('l', 'owner-2')
  assert.equal(await client.get('l'), 'owner-1', 'not released by someone who does not hold it')
  await store.releaseLock('l', 'owner-1')
  assert.equal(await client.exists('l'), 0, 'released by its owner')
  await store.releaseLock('l', 'owner-1')
  assert.equal(await store.acquireLock('l', 'owner-2', 5000), true, 'free again')

  assert.equal(await store.acquireLock('brief', 'owner-1', 0.2), true)
  await new Promise((resolve) => setTimeout(resolve, 30))
  assert.equal(await client.exists('brief'), 0, 'a fraction of a millisecond is one millisecond: expired')
  assert.equal(await store.acquireLock('brief', 'owner-2', 40), true, 'an expired lock is free')
})

test('addExpiring keeps members scored by expiry, drops those expired, and lets the list expire with its last member', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client })
  const now = Date.now()

  await store.addExpiring('r', 'a', now + 60_000, now)
  assert.equal(await client.pExpireTime('r'), now + 60_000)
  await store.addExpiring('r', 'b', now + 30_000.4, now)
  assert.equal(await client.zScore('r', 'b'), now + 30_001, 'expiry rounded up')
  assert.equal(await client.pExpireTime('r'), now + 60_000, 'the list lives as long as its last member')
  await store.addExpiring('r', 'c', now + 90_000, now)
  assert.equal(await client.pExpireTime('r'), now + 90_000, 'a later member extends it')
  await store.addExpiring('r', 'a', now + 120_000, now)
  assert.equal(await client.zScore('r', 'a'), now + 120_000, 'a member added again takes its new expiry')
  assert.equal(await client.pExpireTime('r'), now + 120_000)

  assert.deepEqual(await store.liveMembers('r', now), [['b', now + 30_001], ['c', now + 90_000], ['a', now + 120_000]], 'soonest first')
  assert.deepEqual(await store.liveMembers('r', now + 30_001), [['c', now + 90_000], ['a', now + 120_000]], 'a member expiring exactly now is no longer live')
  assert.deepEqual(await store.liveMembers('r', now + 30_000.9), [['b', now + 30_001], ['c', now + 90_000], ['a', now + 120_000]], 'now rounded down')
  assert.deepEqual(await store.liveMembers('nothing', now), [])

  // Adding later prunes whatever has expired by then.
  await store.addExpiring('r', 'd', now + 200_000, now + 95_000)
  assert.deepEqual(await client.zRange('r', 0, -1), ['a', 'd'])
  assert.equal(await client.pExpireTime('r'), now + 200_000)

  await store.addExpiring('gone', 'x', now - 1, now)
  assert.equal(await client.exists('gone'), 0, 'a member already expired is pruned at once: nothing is kept')
})

test('publish reaches a subscription on a connection of its own; close ends it and leaves the app\'s client open', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const tracked = trackingClient(t, client)
  const store = redisStore({ client: tracked.client, prefix: 'p:' })
  const subscriber = recorder()
  const clientsBefore = Number((await redis.info('clients')).get('connected_clients'))
  const subscription = await store.subscribe('p:events', subscriber)
  assert.equal(Number((await redis.info('clients')).get('connected_clients')), clientsBefore + 1, 'one more connection')
  assert.deepEqual({ ...await client.pubSubNumSub('p:events') }, { 'p:events': 1 }, 'subscribed once subscribe() resolves')

  await store.publish('p:events', 'hello')
  await store.publish('other', 'not for us')
  await store.publish('p:events', '{"t":"end"}')
  await waitFor('two messages', () => subscriber.messages.length === 2)
  assert.deepEqual(subscriber.messages, ['hello', '{"t":"end"}'])

  await subscription.close()
  assert.equal(tracked.connections[0]?.isOpen, false, 'the store closes its own connection')
  assert.deepEqual({ ...await client.pubSubNumSub('p:events') }, { 'p:events': 0 })
  assert.equal(Number((await redis.info('clients')).get('connected_clients')), clientsBefore, 'its connection is closed')
  assert.ok(client.isOpen, 'the app\'s client is left open')
  await store.publish('p:events', 'after close')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.deepEqual(subscriber.messages, ['hello', '{"t":"end"}'], 'nothing after close')
  assert.deepEqual(subscriber.events, [], 'closing is not the connection going down')
})

test('a restart of Redis: down once when the connection is lost, up once subscribed again, and messages flow again', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client: trackingClient(t, client).client })
  const subscriber = recorder()
  await store.subscribe('events', subscriber)

  await redis.stop()
  await waitFor('down', () => subscriber.events.length > 0)
  assert.deepEqual(subscriber.events, ['down'])
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.deepEqual(subscriber.events, ['down'], 'failed reconnection attempts report nothing more')

  await redis.start()
  await waitFor('up', () => subscriber.events.length > 1)
  assert.deepEqual(subscriber.events, ['down', 'up'])
  assert.deepEqual({ ...await client.pubSubNumSub('events') }, { events: 1 }, 'the channel is subscribed again')
  await store.publish('events', 'after restart')
  await waitFor('the message', () => subscriber.messages.length === 1)
  assert.deepEqual(subscriber.messages, ['after restart'])
})

test('subscribe rejects when the connection cannot be made', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  await redis.stop()
  const store = redisStore({ client: trackingClient(t, client, { reconnect: false }).client })
  const subscriber = recorder()
  await assert.rejects(store.subscribe('events', subscriber))
  assert.deepEqual(subscriber.events, [], 'never up: never down either')
})

/** A connection that answers at once and emits the events the test chooses. */
class FakeConnection extends EventEmitter implements NodeRedisSubscriberClient {
  listener: ((message: string) => void) | undefined
  destroyed = 0
  async connect (): Promise<void> {}
  async subscribe (_channel: string, listener: (message: string) => void): Promise<void> {
    this.listener = listener
  }

  destroy (): void {
    this.destroyed++
  }
}

function fakeClient (connection: NodeRedisSubscriberClient, evalReply: unknown): NodeRedisClient {
  return {
    get: async () => 42,
    set: async () => 'OK',
    del: async () => 1,
    eval: async () => evalReply,
    publish: async () => 1,
    duplicate: () => connection
  }
}

test('subscription state: down and up only on changes, nothing once closing; close() falls back to destroy()', async () => {
  const connection = new FakeConnection()
  const store = redisStore({ client: fakeClient(connection, null) })
  const subscriber = recorder()
  const subscription = await store.subscribe('events', subscriber)

  connection.emit('ready')
  assert.deepEqual(subscriber.events, [], 'ready while up: nothing to report')
  connection.emit('error', new Error('ECONNRESET'))
  connection.emit('reconnecting')
  connection.emit('end')
  assert.deepEqual(subscriber.events, ['down'], 'error, reconnecting, end: down once')
  connection.emit('ready')
  connection.emit('ready')
  assert.deepEqual(subscriber.events, ['down', 'up'], 'ready again: up once')
  connection.listener?.('message')
  assert.deepEqual(subscriber.messages, ['message'])

  await subscription.close()
  assert.equal(connection.destroyed, 1, 'a connection without close() is destroyed')
  connection.emit('end')
  connection.emit('ready')
  assert.deepEqual(subscriber.events, ['down', 'up'], 'nothing is reported once closing')
})

test('replies of another shape: a number from GET becomes a string, anything but a list from a script is no members', async () => {
  const store = redisStore({ client: fakeClient(new FakeConnection(), 'not a list') })
  assert.equal(await store.get('k'), '42')
  assert.deepEqual(await store.setMembers('k'), [])
  assert.deepEqual(await store.liveMembers('k', 0), [])
  const odd = redisStore({ client: fakeClient(new FakeConnection(), ['a', '10', 'dangling']) })
  assert.deepEqual(await odd.liveMembers('k', 0), [['a', 10]], 'a member without its score is dropped')
  assert.deepEqual(await odd.setMembers('k'), ['a', '10', 'dangling'])
})

test('a subscription Redis refuses (ACL without channels): subscribe rejects and the store closes the connection it opened', async (t) => {
  const redis = await startRedis(t)
  const admin = await redis.client()
  await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', '>app-password', '~*', '+@all', 'resetchannels'])
  const client: RedisClientType = createClient({ url: `redis://app:app-password@127.0.0.1:${redis.port}` })
  client.on('error', () => {})
  await client.connect()
  t.after(() => { if (client.isOpen) client.destroy() })
  const tracked = trackingClient(t, client)
  const store = redisStore({ client: tracked.client })
  const subscriber = recorder()
  await assert.rejects(store.subscribe('events', subscriber), /NOPERM/)
  assert.equal(tracked.connections.length, 1)
  assert.equal(tracked.connections[0]?.isOpen, false, 'no connection left open behind a failed subscription')
  assert.deepEqual(subscriber.events, [])
})

test('a failed subscription is discarded whatever the connection offers: destroy(), else close(), else nothing', async () => {
  const refused = async (): Promise<never> => { throw new Error('NOPERM') }
  const withDestroy = Object.assign(new FakeConnection(), { subscribe: refused })
  await assert.rejects(redisStore({ client: fakeClient(withDestroy, null) }).subscribe('events', recorder()), /NOPERM/)
  assert.equal(withDestroy.destroyed, 1)

  let closed = 0
  const onlyClose: NodeRedisSubscriberClient = {
    connect: async () => {},
    subscribe: refused,
    on: () => undefined,
    close: async () => { closed++ }
  }
  await assert.rejects(redisStore({ client: fakeClient(onlyClose, null) }).subscribe('events', recorder()), /NOPERM/)
  assert.equal(closed, 1)

  const neither: NodeRedisSubscriberClient = { connect: async () => {}, subscribe: refused, on: () => undefined }
  await assert.rejects(redisStore({ client: fakeClient(neither, null) }).subscribe('events', recorder()), /NOPERM/, 'the failure itself, not one of closing')
})

test('a subscription still connecting gives up when its signal aborts: it rejects and closes its connection', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const tracked = trackingClient(t, client)
  const store = redisStore({ client: tracked.client })
  await redis.stop()
  const closing = new AbortController()
  const subscriber = { ...recorder(), signal: closing.signal }
  const subscribing = store.subscribe('events', subscriber)
  await new Promise((resolve) => setTimeout(resolve, 150))
  assert.equal(tracked.connections[0]?.isOpen, true, 'still trying to connect')
  closing.abort()
  await assert.rejects(subscribing)
  assert.equal(tracked.connections[0]?.isOpen, false)
  assert.deepEqual(subscriber.events, [])

  const aborted = store.subscribe('events', { ...recorder(), signal: AbortSignal.abort() })
  await assert.rejects(aborted, { name: 'AbortError' })
  assert.equal(tracked.connections[1]?.isOpen, false, 'an aborted signal: no connection at all')
})

test('a signal that aborts once subscribed changes nothing: close() ends the subscription', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const tracked = trackingClient(t, client)
  const store = redisStore({ client: tracked.client })
  const closing = new AbortController()
  const subscriber = { ...recorder(), signal: closing.signal }
  const subscription = await store.subscribe('events', subscriber)
  closing.abort()
  await store.publish('events', 'still subscribed')
  await waitFor('the message', () => subscriber.messages.length === 1)
  assert.equal(tracked.connections[0]?.isOpen, true)
  await subscription.close()
  assert.equal(tracked.connections[0]?.isOpen, false)
})

test('aborted while the SUBSCRIBE is answered: rejects, and the connection is discarded', async () => {
  const closing = new AbortController()
  const connection = Object.assign(new FakeConnection(), {
    subscribe: async () => { closing.abort() }
  })
  await assert.rejects(redisStore({ client: fakeClient(connection, null) }).subscribe('events', { ...recorder(), signal: closing.signal }), { name: 'AbortError' })
  assert.ok(connection.destroyed >= 1)
})
