import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSafeReturnTo, safeReturnTo } from '../../lib/util/return-to.js'

test('same-origin paths are accepted', () => {
  for (const path of ['/', '/private', '/a/b?c=d&e=f', '/search?q=%2F%2F', '/caf%C3%A9', '/x#frag']) {
    assert.equal(isSafeReturnTo(path), true, path)
  }
})

test('anything that could leave the origin is refused', () => {
  const attacks = [
    '//evil.com', '/\\evil.com', '\\\\evil.com', 'https://evil.com', 'http:evil.com', 'javascript:alert(1)',
    '/%2F%2Fevil.com', '/%2f%2fevil.com', '/%5Cevil.com', '%2F%2Fevil.com', '\t//evil.com', '/\t/evil.com',
    '/\n/evil.com', ' /x', 'evil.com', '', '/' + 'a'.repeat(2048), '/%E0%A4%A', '/caf\u00e9', '/%00', '/%09/evil.com'
  ]
  for (const attack of attacks) assert.equal(isSafeReturnTo(attack), false, JSON.stringify(attack))
})

test('safeReturnTo drops non-strings', () => {
  assert.equal(safeReturnTo(['/a', '/b']), undefined)
  assert.equal(safeReturnTo(undefined), undefined)
  assert.equal(safeReturnTo('/ok'), '/ok')
})
