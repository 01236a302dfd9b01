import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import { JwksKeyStore } from '../../lib/tokens/jwks.js'
import { isCanonicalBase64url } from '../../lib/tokens/jws.js'
import { startIdp } from '../helpers/app.js'

test('a refetch that finds the same keys keeps the same KeyObjects and generation; a rotation bumps it', async (t) => {
  const idp = await startIdp(t)
  const http = new CognitoHttpClient(5000)
  t.after(async () => { await http.close() })
  const keys = new JwksKeyStore(http, idp.jwksUri, 0)
  await keys.refresh()
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: Array<{ kid: string }> }
  const kids = jwks.keys.map((key) => key.kid)
  const before = kids.map((kid) => keys.cachedKey(kid))
  assert.ok(before.every((key) => key !== undefined))
  const generation = keys.generation

  await keys.refresh()
  assert.deepEqual(kids.map((kid) => keys.cachedKey(kid)), before, 'the very same KeyObjects')
  assert.equal(keys.generation, generation)

  await idp.rotateKeys()
  await keys.refresh()
  assert.ok(keys.generation > generation)
  assert.ok(kids.every((kid) => keys.cachedKey(kid) === undefined), 'the old kids are gone')
})

test('static keys (jwks option) have a fixed generation', () => {
  const modulus = randomBytes(256)
  modulus[0] = (modulus[0] as number) | 0x80 // a full 2048-bit modulus
  modulus[255] = (modulus[255] as number) | 1
  const keys = new JwksKeyStore(new CognitoHttpClient(1000), 'https://unused.example.com/jwks.json', 0, Date.now, {
    keys: [{ kty: 'RSA', kid: 'k', alg: 'RS256', use: 'sig', n: modulus.toString('base64url'), e: 'AQAB' }]
  })
  assert.equal(keys.generation, 0)
  assert.ok(keys.cachedKey('k'))
})

test('isCanonicalBase64url agrees with a decode and re-encode, for every length and last character', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for (let length = 1; length <= 12; length++) {
    for (const last of alphabet) {
      const value = `${Buffer.from(randomBytes(length)).toString('base64url').slice(0, length - 1)}${last}`.slice(-length)
      const canonical = Buffer.from(value, 'base64url').toString('base64url') === value
      assert.equal(isCanonicalBase64url(value), canonical, `${JSON.stringify(value)} (length ${length})`)
    }
  }
})
