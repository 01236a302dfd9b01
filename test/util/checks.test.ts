import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isOAuthErrorCode, isPlainObject, isStringArray } from '../../lib/util/checks.js'

test('isPlainObject: a JSON object, never null or an array', () => {
  assert.equal(isPlainObject({}), true)
  assert.equal(isPlainObject({ a: 1 }), true)
  assert.equal(isPlainObject(Object.create(null)), true)
  for (const value of [null, undefined, [], [1], 'x', 1, true]) assert.equal(isPlainObject(value), false, JSON.stringify(value))
})

test('isStringArray: an array of strings only (the empty array included)', () => {
  assert.equal(isStringArray([]), true)
  assert.equal(isStringArray(['a', '']), true)
  for (const value of [['a', 1], [null], 'a', { 0: 'a', length: 1 }, undefined]) assert.equal(isStringArray(value), false, JSON.stringify(value))
})

test('isOAuthErrorCode: lower-case words joined by "_", 1 to 64 characters', () => {
  for (const code of ['invalid_grant', 'access_denied', 'a', 'x'.repeat(64), '_']) assert.equal(isOAuthErrorCode(code), true, code)
  for (const code of ['', 'Invalid_grant', 'invalid-grant', 'invalid grant', 'x'.repeat(65), '<img>', 'invalid_grant\n', 42, undefined, null]) {
    assert.equal(isOAuthErrorCode(code), false, JSON.stringify(code))
  }
})
