import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTokenIssuer } from '../../lib/testing/index.js'
import { decodePart, startCognito } from './local-cognito-helpers.js'

async function kidsOf (jwksUri: string): Promise<string[]> {
  const { keys } = await (await fetch(jwksUri)).json() as { keys: Array<{ kid: string }> }
  return keys.map(key => key.kid)
}

test('pools and token issuers of one process start with the same two key pairs', async (t) => {
  const first = await startCognito(t)
  const second = await startCognito(t)
  const issuer = await createTokenIssuer()
  const kids = await kidsOf(first.jwksUri)
  assert.equal(kids.length, 2)
  assert.notEqual(kids[0], kids[1], 'the ID-token key and the access-token key still differ')
  assert.deepEqual(await kidsOf(second.jwksUri), kids)
  assert.deepEqual(issuer.jwks.keys.map(key => key.kid), kids)
  // Each pool keeps its own issuer, so sharing keys never makes one pool's token valid for another.
  assert.notEqual(first.issuer, second.issuer)
  assert.equal(decodePart(await first.mintAccessToken('alice', 'local-public-client'), 1).iss, first.issuer)
})

test('rotateKeys generates fresh keys for that pool only and leaves the shared pair to later pools', async (t) => {
  const rotated = await startCognito(t)
  const untouched = await startCognito(t)
  const shared = await kidsOf(rotated.jwksUri)

  await rotated.rotateKeys()
  const fresh = await kidsOf(rotated.jwksUri)
  assert.equal(fresh.length, 2)
  assert.ok(fresh.every(kid => !shared.includes(kid)), 'new kids')
  assert.notEqual(fresh[0], fresh[1])
  assert.equal(decodePart(await rotated.mintAccessToken('alice', 'local-public-client'), 0).kid, fresh[1])

  await rotated.rotateKeys()
  assert.ok((await kidsOf(rotated.jwksUri)).every(kid => !fresh.includes(kid) && !shared.includes(kid)), 'every rotation is fresh')

  assert.deepEqual(await kidsOf(untouched.jwksUri), shared)
  const later = await startCognito(t)
  assert.deepEqual(await kidsOf(later.jwksUri), shared)
})
