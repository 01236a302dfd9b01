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

test('deepFreeze freezes in place and returns the same value, arrays of arrays included', () => {
  const value = { list: [[1, { deep: true }]], nothing: null }
  assert.equal(deepFreeze(value), value)
  assert.ok(Object.isFrozen(value.list[0]))
  assert.ok(Object.isFrozen((value.list[0] as unknown[])[1]))
  assert.throws(() => { (value as { added?: number }).added = 1 }, TypeError)
})

test('deepFreeze stops at a value already frozen: shared frozen parts are not walked again', () => {
  const inner = { changeable: [1] }
  const shell = Object.freeze({ inner })
  assert.equal(deepFreeze(shell), shell)
  assert.equal(Object.isFrozen(inner), false, 'a frozen object is taken as frozen through')
  const claims = deepFreeze({ groups: ['a'] })
  const user = deepFreeze({ claims, scopes: ['s'] })
  assert.equal(user.claims, claims)
  assert.ok(Object.isFrozen(user.scopes))
})
