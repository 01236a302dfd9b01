import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { CognitoSessionStoreUnavailableError } from '../../lib/errors.js'
import { redisStore } from '../../lib/redis/index.js'
import { BoundedStore } from '../../lib/session/store-calls.js'
import type { CognitoSessionStore } from '../../lib/types-store.js'
import { capturingLogger } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'

// BoundedStore: every call to the app's store bounded by sessionStoreTimeout, and every failure the one typed 503,
// logged by the error's name only. Against a real Redis (answering, then frozen with SIGSTOP); a hand-written store
// only for what Redis cannot do (reject with something that is not an Error).

interface LogLine { level: number, msg: string, operation?: string, error?: string, code?: string }

function logs (t: TestContext): { log: FastifyBaseLogger, lines: () => LogLine[] } {
  const { logger, lines } = capturingLogger()
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  return { log: app.log, lines: () => lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === 'fastify-cognito: the session store failed') }
}

function assertUnavailable (error: unknown): asserts error is CognitoSessionStoreUnavailableError {
  assert.ok(error instanceof CognitoSessionStoreUnavailableError)
  assert.equal(error.code, 'FST_COGNITO_SESSION_STORE_UNAVAILABLE')
  assert.equal(error.statusCode, 503)
  assert.deepEqual(error.headers, { 'retry-after': '1' })
}

function isUnavailable (error: unknown): boolean {
  assertUnavailable(error)
  return true
}

function activeTimeouts (): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length
}

test('a call that answers in time resolves to its value, and leaves no timer behind', async (t) => {
  const redis = await startRedis(t)
  const store = redisStore({ client: await redis.client() })
  const { log, lines } = logs(t)
  const calls = new BoundedStore(store, 60_000, log)
  assert.equal(calls.store, store)
  assert.equal(calls.timeoutMs, 60_000)

  const timers = activeTimeouts()
  await calls.call('create', async (s) => { await s.create('k', 'v', 60) })
  assert.equal(await calls.call('get', async (s) => await s.get('k')), 'v')
  assert.equal(await calls.call('get', async (s) => await s.get('missing')), null)
  assert.equal(activeTimeouts(), timers, 'the 60 s bound is cleared once the call answers')
  assert.deepEqual(lines(), [])
})

test('a store that does not answer within the bound: the 503, and the call is logged by its operation', async (t) => {
  const redis = await startRedis(t)
  const store = redisStore({ client: await redis.client() })
  const { log, lines } = logs(t)
  const calls = new BoundedStore(store, 100, log)
  redis.pause()
  t.after(() => { redis.resume() })
  const started = Date.now()
  await assert.rejects(calls.call('get', async (s) => await s.get('k')), (error) => {
    assertUnavailable(error)
    assert.equal(error.message, 'The session store did not answer within 100 ms: retry shortly')
    return true
  })
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 95 && elapsed < 2000, `bounded (${elapsed} ms)`)
  assert.deepEqual(lines().map((line) => [line.level, line.operation, line.error, line.code]), [[40, 'get', 'CognitoSessionStoreUnavailableError', 'FST_COGNITO_SESSION_STORE_UNAVAILABLE']])

  redis.resume()
  assert.equal(await calls.call('get', async (s) => await s.get('k')), null, 'answering again: the next call goes through')
})

test('a store that fails: the 503 without the failure as its cause (Fastify would log its message), logged by the error\'s name only', async (t) => {
  const redis = await startRedis(t)
  const client = await redis.client()
  const store = redisStore({ client })
  const { log, lines } = logs(t)
  const calls = new BoundedStore(store, 1000, log)
  // A real failure of Redis that quotes the key: WRONGTYPE on a key holding a set.
  await client.sAdd('secret-key-name', 'm')
  await assert.rejects(calls.call('get', async (s) => await s.get('secret-key-name')), (error) => {
    assertUnavailable(error)
    assert.equal(error.message, 'The session store is unavailable: retry shortly')
    assert.equal(error.cause, undefined)
    return true
  })
  await redis.stop()
  await assert.rejects(calls.call('publish', async (s) => { await s.publish('events', 'secret-message') }), isUnavailable)
  const logged = lines()
  assert.deepEqual(logged.map((line) => [line.operation, line.code]), [['get', 'FST_COGNITO_SESSION_STORE_UNAVAILABLE'], ['publish', 'FST_COGNITO_SESSION_STORE_UNAVAILABLE']])
  assert.equal(logged[0]?.error, 'Error', 'node-redis\'s ErrorReply is named Error')
  // A stopped Redis: node-redis either rejects at once (the socket closed under the command: an Error) or queues
  // the command while it reconnects, and then the bound answers. Which one is a matter of timing.
  assert.ok(['Error', 'CognitoSessionStoreUnavailableError'].includes(String(logged[1]?.error)), String(logged[1]?.error))
  const text = JSON.stringify(logged)
  assert.equal(text.includes('secret-key-name'), false, 'no key in the log')
  assert.equal(text.includes('WRONGTYPE'), false, 'no message in the log')
})

test('whatever the store throws becomes the one 503: a rejection that is no Error, a synchronous throw, the 503 itself unchanged', async (t) => {
  const { log, lines } = logs(t)
  const store = {} as unknown as CognitoSessionStore
  const calls = new BoundedStore(store, 1000, log)

  const notAnError: unknown = 'a string'
  await assert.rejects(calls.call('get', async () => { throw notAnError }), (error) => {
    assertUnavailable(error)
    assert.equal(error.cause, undefined)
    return true
  })
  await assert.rejects(calls.call('delete', () => { throw new RangeError('sync') }), (error) => {
    assertUnavailable(error)
    assert.equal(error.cause, undefined)
    return true
  })
  const own = new CognitoSessionStoreUnavailableError('already typed')
  await assert.rejects(calls.call('replace', async () => { throw own }), (error) => error === own)
  assert.deepEqual(lines().map((line) => [line.operation, line.error]), [['get', 'string'], ['delete', 'RangeError'], ['replace', 'CognitoSessionStoreUnavailableError']])
})
