import { test } from 'node:test'
import assert from 'node:assert/strict'
import { deepFreeze } from '../../lib/util/freeze.js'

test('deepFreeze freezes nested objects and arrays', () => {
  const value = deepFreeze({ a: { b: [1, { c: 'd' }] }, e: 'f' })
  assert.ok(Object.isFrozen(value))
  assert.ok(Object.isFrozen(value.a))
  assert.ok(Object.isFrozen(value.a.b))
  assert.ok(Object.isFrozen(value.a.b[1]))
  assert.throws(() => { (value.a.b as unknown[]).push(2) }, TypeError)
  assert.equal(deepFreeze(null), null)
  assert.equal(deepFreeze('x'), 'x')
})
