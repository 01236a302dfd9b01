import { test } from 'node:test'
import assert from 'node:assert/strict'
import { constantTimeEqual, pkceChallenge, randomToken } from '../../lib/util/random.js'

test('randomToken: 256 bits as 43 base64url characters, never the same twice', () => {
  const tokens = new Set(Array.from({ length: 1000 }, () => randomToken()))
  assert.equal(tokens.size, 1000)
  for (const token of tokens) {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(Buffer.from(token, 'base64url').length, 32)
  }
})

test('pkceChallenge is S256: the RFC 7636 appendix B example', () => {
  assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  assert.match(pkceChallenge(randomToken()), /^[A-Za-z0-9_-]{43}$/)
})

test('constantTimeEqual compares whole strings, of any lengths', () => {
  assert.equal(constantTimeEqual('state-1', 'state-1'), true)
  assert.equal(constantTimeEqual('', ''), true)
  assert.equal(constantTimeEqual('state-1', 'state-2'), false)
  assert.equal(constantTimeEqual('state', 'state-1'), false, 'a prefix is not equal')
  assert.equal(constantTimeEqual('state-1', ''), false)
  assert.equal(constantTimeEqual('é', 'e\u0301'), false, 'compared as UTF-8 bytes, not normalised')
})
