import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ExpiringCache, tailIndex } from '../../lib/util/expiring-cache.js'

function clock (start = 1000): { now: () => number, advance: (seconds: number) => void } {
  let time = start
  return { now: () => time, advance: (seconds) => { time += seconds } }
}

test('a stored value is found by its exact key only', () => {
  const { now } = clock()
  const cache = new ExpiringCache<string>(10, now)
  cache.set('a.b.c', 'value', 2000)
  assert.equal(cache.get('a.b.c'), 'value')
  assert.equal(cache.get('a.b.c '), undefined)
  assert.equal(cache.get('A.b.c'), undefined)
  assert.equal(cache.get('a.b'), undefined)
  assert.equal(cache.size, 1)
})

test('an entry is served until just before its deadline, never at it, and is dropped then', () => {
  const { now, advance } = clock(1000)
  const cache = new ExpiringCache<string>(10, now)
  cache.set('token', 'claims', 1010)
  advance(9.999)
  assert.equal(cache.get('token'), 'claims')
  advance(0.001)
  assert.equal(cache.get('token'), undefined, 'at the deadline')
  assert.equal(cache.size, 0, 'dropped, not only hidden')
})

test('a deadline already past stores nothing', () => {
  const { now } = clock(1000)
  const cache = new ExpiringCache<string>(10, now)
  cache.set('past', 'x', 999)
  cache.set('now', 'x', 1000)
  assert.equal(cache.size, 0)
})

test('once the earliest deadline passes, the next operation sweeps every expired entry out', () => {
  const { now, advance } = clock(1000)
  const cache = new ExpiringCache<number>(100, now)
  for (let i = 0; i < 50; i++) cache.set(`short-${i}`, i, 1010)
  for (let i = 0; i < 10; i++) cache.set(`long-${i}`, i, 5000)
  assert.equal(cache.size, 60)
  advance(20)
  // A lookup of something else entirely is enough.
  assert.equal(cache.get('long-3'), 3)
  assert.equal(cache.size, 10, 'no expired entry is held')
  cache.set('other', 1, 1040)
  advance(100)
  cache.set('another', 2, 6000)
  assert.equal(cache.size, 11)
  assert.equal(cache.get('other'), undefined)
})

test('prune drops expired entries without any lookup', () => {
  const { now, advance } = clock(1000)
  const cache = new ExpiringCache<number>(100, now)
  cache.set('a', 1, 1001)
  cache.set('b', 2, 1002)
  advance(1.5)
  cache.prune()
  assert.equal(cache.size, 1)
})

test('bounded: beyond maxEntries the least recently used entry leaves first', () => {
  const { now } = clock()
  const cache = new ExpiringCache<number>(4, now)
  for (const key of ['a', 'b', 'c', 'd']) cache.set(key, 1, 9999)
  // 'a' is the oldest; reading it makes it the most recently used.
  assert.equal(cache.get('a'), 1)
  cache.set('e', 1, 9999)
  assert.equal(cache.size, 4)
  assert.equal(cache.get('b'), undefined, 'the least recently used left')
  assert.equal(cache.get('a'), 1, 'the recently read one stayed')
  cache.set('f', 1, 9999)
  cache.set('g', 1, 9999)
  assert.equal(cache.size, 4)
  assert.equal(cache.get('a'), 1, 'a hot entry survives a stream of new ones')
})

test('100,000 distinct keys keep the cache at its bound', () => {
  const { now } = clock()
  const cache = new ExpiringCache<number>(1000, now)
  let largest = 0
  for (let i = 0; i < 100_000; i++) {
    cache.set(`token-${i}`, i, 9999)
    if (cache.size > largest) largest = cache.size
  }
  assert.equal(largest, 1000)
  assert.equal(cache.size, 1000)
  assert.equal(cache.get('token-99999'), 99_999)
  assert.equal(cache.get('token-0'), undefined)
})

test('maxEntries 0 turns the cache off', () => {
  const { now } = clock()
  const cache = new ExpiringCache<number>(0, now)
  cache.set('a', 1, 9999)
  assert.equal(cache.size, 0)
  assert.equal(cache.get('a'), undefined)
  assert.throws(() => new ExpiringCache(-1, now), RangeError)
  assert.throws(() => new ExpiringCache(1.5, now), RangeError)
})

test('setting a key again replaces its value and deadline', () => {
  const { now, advance } = clock(1000)
  const cache = new ExpiringCache<string>(10, now)
  cache.set('k', 'old', 1100)
  cache.set('k', 'new', 1005)
  assert.equal(cache.size, 1)
  assert.equal(cache.get('k'), 'new')
  advance(5)
  assert.equal(cache.get('k'), undefined)
})

test('delete and deleteWhere', () => {
  const { now } = clock()
  const cache = new ExpiringCache<{ kid: string }>(10, now)
  cache.set('a', { kid: 'one' }, 9999)
  cache.set('b', { kid: 'two' }, 9999)
  cache.set('c', { kid: 'one' }, 9999)
  assert.equal(cache.delete('b'), true)
  assert.equal(cache.delete('b'), false)
  assert.equal(cache.deleteWhere((value) => value.kid === 'one'), 2)
  assert.equal(cache.size, 0)
})

test('tailIndex: a small whole number from the last characters, the same for equal tails', () => {
  const a = tailIndex('header.payload.signature-ABCDEFGH', 8)
  assert.equal(a, tailIndex('other.claims.different-ABCDEFGH', 8))
  assert.notEqual(a, tailIndex('header.payload.signature-ABCDEFGI', 8))
  assert.ok(Number.isInteger(a) && a >= 0 && a < 2 ** 30)
  assert.equal(tailIndex('', 8), 0)
  assert.ok(Number.isInteger(tailIndex('abc', 8)))
})

test('an entry past its deadline is never served, also between two sweeps', () => {
  const { now, advance } = clock(1000)
  const cache = new ExpiringCache<string>(10, now)
  cache.set('early', 'a', 1000.5)
  cache.set('late', 'b', 1000.8)
  advance(0.6)
  assert.equal(cache.get('late'), 'b', 'this sweep drops "early" and waits a second for the next')
  assert.equal(cache.size, 1)
  advance(0.3)
  assert.equal(cache.get('late'), undefined, 'past its deadline before the next sweep: dropped on sight')
  assert.equal(cache.size, 0)
})

test('clear drops every entry, and the cache works on after it', () => {
  const { now } = clock(1000)
  const cache = new ExpiringCache<number>(10, now)
  cache.set('a', 1, 2000)
  cache.set('b', 2, 1500)
  cache.clear()
  assert.equal(cache.size, 0)
  assert.equal(cache.get('a'), undefined)
  cache.set('c', 3, 3000)
  assert.equal(cache.get('c'), 3)
  assert.equal(cache.maxEntries, 10)
})
