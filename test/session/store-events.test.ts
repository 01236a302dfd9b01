import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { CognitoSessionStoreUnavailableError } from '../../lib/errors.js'
import { redisStore } from '../../lib/redis/index.js'
import { BoundedStore } from '../../lib/session/store-calls.js'
import { StoreEvents } from '../../lib/session/store-events.js'
import { StoreKeys } from '../../lib/session/store-records.js'
import type { CognitoSessionStore, CognitoStoreSubscriber, CognitoStoreSubscription } from '../../lib/types-store.js'
import { createClock, type Clock } from '../../lib/util/clock.js'
import { capturingLogger } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import type { RedisClientType } from 'redis'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'

// What the instances of a fleet tell each other (store-events.ts): StoreEvents built directly on a real Redis store,
// several of them standing for several instances. Hand-written stores only to hold a call back at a chosen moment,
// or to hand the test the subscriber callbacks.

const PREFIX = 'test:'
const keys = new StoreKeys(PREFIX)

interface Recorded {
  ended: string[]
  refreshed: string[]
  stale: number
  revoked: Array<[string, number]>
}

interface Instance {
  events: StoreEvents
  /** Closes the events (once: the test's own close, else after the test). */
  close: () => Promise<void>
  recorded: Recorded
  warnings: () => Array<{ msg: string, error?: string }>
}

function instance (t: TestContext, store: CognitoSessionStore, { failOpen = false, timeoutMs = 500, clock = createClock() }: { failOpen?: boolean, timeoutMs?: number, clock?: Clock } = {}): Instance {
  const { logger, lines } = capturingLogger()
  const app = Fastify({ logger })
  const recorded: Recorded = { ended: [], refreshed: [], stale: 0, revoked: [] }
  const events = new StoreEvents(new BoundedStore(store, timeoutMs, app.log), keys, {
    clock,
    log: app.log,
    failOpen,
    onEnded: (sid) => { recorded.ended.push(sid) },
    onRefreshed: (sid) => { recorded.refreshed.push(sid) },
    onStale: () => { recorded.stale++ },
    revokeLocally: (id, expiresAt) => { recorded.revoked.push([id, expiresAt]) }
  })
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await events.close()
  }
  t.after(async () => {
    await close()
    await app.close()
  })
  const warnings = (): Array<{ msg: string, error?: string }> => lines.map((line) => JSON.parse(line) as { level: number, msg: string, error?: string }).filter((line) => line.level === 40)
  return { events, close, recorded, warnings }
}

async function waitFor (what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function refusesUnknownRevocations (events: StoreEvents): void {
  assert.throws(() => { events.assertRevocationsKnown() }, (error: unknown) => {
    assert.ok(error instanceof CognitoSessionStoreUnavailableError)
    assert.equal(error.statusCode, 503)
    assert.equal(error.message, 'The list of signed-out tokens is not loaded from the session store yet: retry shortly')
    return true
  })
}

/** A promise the test settles. */
function deferred<T> (): { promise: Promise<T>, resolve: (value: T) => void, reject: (error: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
  return { promise, resolve, reject }
}

async function redisWith (t: TestContext, options?: { persistence?: boolean }): Promise<{ redis: RedisServer, store: CognitoSessionStore }> {
  const redis = await startRedis(t, options)
  return { redis, store: redisStore({ client: await redis.client(), prefix: PREFIX }) }
}

test('start subscribes, then loads the signed-out tokens still live: live, and requests are let through', async (t) => {
  const { store } = await redisWith(t)
  const now = Date.now()
  await store.addExpiring(keys.revocations, 'origin-1', now + 60_000, now)
  await store.addExpiring(keys.revocations, 'jti-2', now + 120_000, now)
  await store.addExpiring(keys.revocations, 'expired', now - 1000, now - 2000)
  const { events, recorded } = instance(t, store)
  assert.equal(events.live, false)

  await events.start()
  assert.equal(events.live, true)
  assert.ok(events.epoch > 0, 'the epoch moved: nothing cached before counts')
  assert.deepEqual(recorded.revoked, [['origin-1', (now + 60_000) / 1000], ['jti-2', (now + 120_000) / 1000]], 'live members only, their expiry in epoch seconds')
  events.assertRevocationsKnown()
})

test('messages between instances: an ended session, a refreshed session, a revocation', async (t) => {
  const { store } = await redisWith(t)
  const a = instance(t, store)
  const b = instance(t, store)
  await a.events.start()
  await b.events.start()

  const epoch = b.events.epoch
  await a.events.announceEnded('sid-1')
  await waitFor('the end', () => b.recorded.ended.length === 1)
  assert.deepEqual(b.recorded.ended, ['sid-1'])
  assert.deepEqual(a.recorded.ended, [], 'the sender skips its own announcement (it applied it when it made it)')
  assert.equal(b.events.epoch, epoch + 1)

  await a.events.announceRefreshed('sid-2')
  await waitFor('the refresh', () => b.recorded.refreshed.length === 1)
  assert.deepEqual(b.recorded.refreshed, ['sid-2'])
  assert.equal(b.events.epoch, epoch + 2)

  const exp = Math.floor(Date.now() / 1000) + 600
  await a.events.revoke('origin-9', exp)
  assert.deepEqual(a.recorded.revoked[0], ['origin-9', exp], 'this instance first, before any store call')
  await waitFor('the revocation', () => b.recorded.revoked.length === 1)
  assert.deepEqual(b.recorded.revoked, [['origin-9', exp]])
  assert.equal(b.events.epoch, epoch + 2, 'a revocation leaves the session cache alone')
  assert.deepEqual(await store.liveMembers(keys.revocations, Date.now()), [['origin-9', exp * 1000]], 'kept in the store for instances that start later')

  const later = instance(t, store)
  await later.events.start()
  assert.deepEqual(later.recorded.revoked, [['origin-9', exp]], 'a later instance catches up from the list')
})

test('malformed messages on the channel are ignored; only a message naming a session moves the epoch', async (t) => {
  const { redis, store } = await redisWith(t)
  const { events, recorded } = instance(t, store)
  await events.start()
  const client = await redis.client()
  const epoch = events.epoch
  for (const message of ['not json', '', '[1,2]', 'null', '42', '"end"', '{"t":"end"}', '{"t":"end","sid":7}', '{"t":"revoke","id":5,"exp":1}',
    '{"t":"revoke","id":"x"}', '{"t":"revoke","id":"x","exp":"soon"}']) {
    await client.publish(keys.channel, message)
  }
  await client.publish(keys.channel, '{"t":"unknown","sid":"s"}')
  await client.publish(keys.channel, '{"t":"end","sid":"last"}')
  await waitFor('the last message', () => recorded.ended.length === 1)
  assert.deepEqual(recorded.ended, ['last'])
  assert.deepEqual(recorded.refreshed, [])
  assert.deepEqual(recorded.revoked, [])
  assert.equal(events.epoch, epoch + 2, 'the unknown kind naming a session, and the end')
})

test('a restart of Redis: not live and the cache stale while down; live again, stale again, and the list reloaded', async (t) => {
  const { redis, store } = await redisWith(t, { persistence: true })
  const { events, recorded } = instance(t, store)
  await events.start()
  assert.deepEqual([events.live, recorded.stale], [true, 0])
  // Signed out while this instance could not hear it: in the list, its message lost.
  const now = Date.now()
  await store.addExpiring(keys.revocations, 'missed', now + 60_000, now)

  const epoch = events.epoch
  await redis.stop()
  await waitFor('down', () => !events.live)
  assert.equal(recorded.stale, 1)
  assert.equal(events.epoch, epoch + 1)

  await redis.start()
  await waitFor('up', () => events.live)
  assert.equal(recorded.stale, 2, 'messages were missed while down: the cache is dropped again')
  assert.equal(events.epoch, epoch + 2)
  await waitFor('the reload', () => recorded.revoked.length === 1)
  assert.deepEqual(recorded.revoked, [['missed', (now + 60_000) / 1000]])

  const b = instance(t, store)
  await b.events.start()
  await b.events.announceEnded('after-restart')
  await waitFor('a message after the restart', () => recorded.ended.length === 1)
})

test('a store that is down at start: start waits a bounded time, requests are refused, and the list is tried again at most once a second', async (t) => {
  const { redis, store } = await redisWith(t)
  let loads = 0
  const counting: CognitoSessionStore = { ...store, liveMembers: async (key, nowMs) => { loads++; return await store.liveMembers(key, nowMs) } }
  const clock = manualClock()
  const { events, warnings } = instance(t, { ...counting, subscribe: async () => { throw new Error('ECONNREFUSED') } }, { timeoutMs: 50, clock: createClock(clock.now) })
  await events.start()
  assert.equal(events.live, false, 'no subscription')
  // Tried again every second (real time) until it succeeds: the same warning each time.
  assert.deepEqual(warnings()[0], { ...warnings()[0], msg: 'fastify-cognito: subscribing to the session store failed; sessions are read from the store on every request until it succeeds', error: 'Error' })
  assert.equal(loads, 0)

  redis.pause()
  refusesUnknownRevocations(events)
  assert.equal(loads, 1, 'the first refusal tries to load the list')
  refusesUnknownRevocations(events)
  assert.equal(loads, 1, 'one load at a time')
  await waitFor('the load to time out', () => warnings().some((line) => line.msg === 'fastify-cognito: the session store failed'))
  await new Promise((resolve) => setImmediate(resolve))
  clock.advance(0.999)
  refusesUnknownRevocations(events)
  assert.equal(loads, 1, 'not again within a second')
  redis.resume()
  clock.advance(0.001)
  refusesUnknownRevocations(events)
  assert.equal(loads, 2, 'a second later: again')
  await waitFor('the list', () => {
    try {
      events.assertRevocationsKnown()
      return true
    } catch {
      return false
    }
  })
  assert.equal(loads, 2)
  assert.equal(events.live, false, 'still no subscription: the cache stays off')
})

test('revocationFailOpen: requests go on while the list is not loaded', async (t) => {
  const { store } = await redisWith(t)
  const { events } = instance(t, { ...store, subscribe: async () => { throw new Error('refused') } }, { failOpen: true, timeoutMs: 50 })
  await events.start()
  events.assertRevocationsKnown()
  assert.equal(events.live, false)
})

test('a subscription that never answers: start gives up after four timeouts; closing first closes it when it comes', async (t) => {
  const { store } = await redisWith(t)
  const pending = deferred<CognitoStoreSubscription>()
  let closed = 0
  const { events, close, warnings } = instance(t, { ...store, subscribe: async () => await pending.promise }, { timeoutMs: 25 })
  const started = Date.now()
  assert.equal(await events.start(), undefined)
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 95 && elapsed < 2000, `4 x 25 ms (${elapsed} ms)`)
  await close()
  pending.resolve({ close: async () => { closed++ } })
  await waitFor('the late subscription to be closed', () => closed === 1)
  assert.equal(events.live, false, 'a subscription that arrives after close is not used')
  assert.deepEqual(warnings(), [])
})

test('reporting a subscription that failed with something that is not an Error', async (t) => {
  const { store } = await redisWith(t)
  const notAnError: unknown = 'refused'
  const { events, warnings } = instance(t, { ...store, subscribe: async () => { throw notAnError } }, { timeoutMs: 25 })
  await events.start()
  assert.equal(warnings()[0]?.error, 'string')
})

test('a reconnection while the list is loading shares that load; after a reload that fails the list counts as unknown', async (t) => {
  const { store } = await redisWith(t)
  let subscriber: CognitoStoreSubscriber | undefined
  let loads = 0
  const gates: Array<ReturnType<typeof deferred<void>>> = []
  const held: CognitoSessionStore = {
    ...store,
    subscribe: async (channel, given) => {
      subscriber = given
      return await store.subscribe(channel, given)
    },
    liveMembers: async (key, nowMs) => {
      loads++
      const gate = deferred<void>()
      gates.push(gate)
      await gate.promise
      return await store.liveMembers(key, nowMs)
    }
  }
  const { events, warnings } = instance(t, held, { timeoutMs: 2000 })
  const starting = events.start()
  await waitFor('the first load', () => loads === 1)
  subscriber?.down()
  subscriber?.up()
  assert.equal(loads, 1, 'the reconnection joins the load under way')
  refusesUnknownRevocations(events)
  assert.equal(loads, 1, 'and so does nobody else')
  gates[0]?.resolve()
  await starting
  events.assertRevocationsKnown()

  subscriber?.down()
  subscriber?.up()
  assert.equal(loads, 2, 'a later reconnection loads again')
  gates[1]?.reject(new Error('the store failed'))
  await waitFor('the failure to be logged', () => warnings().length === 1)
  assert.equal(warnings()[0]?.msg, 'fastify-cognito: the session store failed')
  // Revocations announced while it was down may be missing: unknown (fail closed) until a load succeeds.
  refusesUnknownRevocations(events)
})

test('refreshedOrAfter: woken by the announcement of that session\'s refresh, else after the time given; close wakes everyone', async (t) => {
  const { store } = await redisWith(t)
  const a = instance(t, store)
  const b = instance(t, store)
  await a.events.start()
  await b.events.start()

  const started = Date.now()
  await b.events.refreshedOrAfter('quiet', 50)
  assert.ok(Date.now() - started >= 45, 'nobody announced anything: after the time given')

  const woken: string[] = []
  const waiting = [
    b.events.refreshedOrAfter('sid-1', 60_000).then(() => { woken.push('first') }),
    b.events.refreshedOrAfter('sid-1', 60_000).then(() => { woken.push('second') }),
    b.events.refreshedOrAfter('sid-2', 60_000).then(() => { woken.push('other') })
  ]
  await a.events.announceEnded('sid-1')
  await waitFor('the end', () => b.recorded.ended.length === 1)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(woken, [], 'an end is no refresh')
  await a.events.announceRefreshed('sid-1')
  await waitFor('both waiters of sid-1', () => woken.length === 2)
  assert.deepEqual(woken.sort(), ['first', 'second'])
  await b.close()
  await Promise.all(waiting)
  assert.deepEqual(woken.sort(), ['first', 'other', 'second'], 'closing wakes the rest')
  assert.equal(b.events.live, false)
  await b.events.refreshedOrAfter('sid-1', 1)
})

test('the store failing: revoke refuses the tokens here first, then answers the 503; announcements answer the 503', async (t) => {
  const { redis, store } = await redisWith(t)
  const { events, recorded } = instance(t, store, { timeoutMs: 50 })
  await events.start()
  await redis.stop()
  await assert.rejects(events.revoke('origin-1', 2_000_000_000), CognitoSessionStoreUnavailableError)
  assert.deepEqual(recorded.revoked, [['origin-1', 2_000_000_000]], 'refused in this process whatever the store says')
  await assert.rejects(events.announceEnded('sid'), CognitoSessionStoreUnavailableError)
  await assert.rejects(events.announceRefreshed('sid'), CognitoSessionStoreUnavailableError)
})

test('subscribed, but the list fails to load: start still resolves (the app starts), and requests are refused until it loads', async (t) => {
  const { store } = await redisWith(t)
  let failing = true
  const flaky: CognitoSessionStore = {
    ...store,
    liveMembers: async (key, nowMs) => {
      if (failing) throw new Error('NOSCRIPT')
      return await store.liveMembers(key, nowMs)
    }
  }
  const clock = manualClock()
  const { events, warnings } = instance(t, flaky, { timeoutMs: 50, clock: createClock(clock.now) })
  await events.start()
  assert.equal(events.live, true, 'subscribed')
  assert.deepEqual(warnings().map((line) => line.msg), ['fastify-cognito: the session store failed'])
  refusesUnknownRevocations(events)
  failing = false
  clock.advance(1)
  refusesUnknownRevocations(events)
  await waitFor('the list', () => {
    try {
      events.assertRevocationsKnown()
      return true
    } catch {
      return false
    }
  })
})

test('closed while the store is still unreachable: the subscription gives up and closes its connection, nothing logged', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const connections: RedisClientType[] = []
  const store = redisStore({
    prefix: PREFIX,
    client: {
      get: client.get.bind(client),
      set: client.set.bind(client),
      del: client.del.bind(client),
      eval: client.eval.bind(client),
      publish: client.publish.bind(client),
      duplicate: () => {
        const connection = client.duplicate()
        connections.push(connection)
        return connection
      }
    }
  })
  t.after(() => { for (const connection of connections) if (connection.isOpen) connection.destroy() })
  await redis.stop()
  const { events, close, warnings } = instance(t, store, { timeoutMs: 25 })
  assert.equal(await events.start(), undefined)
  assert.equal(connections[0]?.isOpen, true, 'still connecting when start gives up waiting')
  await close()
  await waitFor('the connection to close', () => connections[0]?.isOpen === false)
  await new Promise((resolve) => setTimeout(resolve, 600))
  assert.deepEqual(warnings(), [], 'giving up at close is no failure')
})
