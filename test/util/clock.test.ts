import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createClock } from '../../lib/util/clock.js'

test('createClock reads the given now: milliseconds as they are, seconds with a fraction', () => {
  let now = 1_700_000_000_500
  const clock = createClock(() => now)
  assert.equal(clock.millis(), 1_700_000_000_500)
  assert.equal(clock.seconds(), 1_700_000_000.5)
  now += 1500
  assert.equal(clock.millis(), 1_700_000_002_000, 'every read asks now again: the test moves time')
  assert.equal(clock.seconds(), 1_700_000_002)
})

test('the default clock is Date.now', () => {
  const clock = createClock()
  const before = Date.now()
  const millis = clock.millis()
  const seconds = clock.seconds()
  const after = Date.now()
  assert.ok(millis >= before && millis <= after)
  assert.ok(seconds * 1000 >= before && seconds * 1000 <= after)
})

test('the clock is frozen: no part of the plugin can swap its time source', () => {
  const clock = createClock(() => 0)
  assert.ok(Object.isFrozen(clock))
  assert.throws(() => { (clock as { millis: () => number }).millis = () => 1 }, TypeError)
})
