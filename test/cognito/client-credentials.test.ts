import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { after, before, test } from 'node:test'
import type { LocalCognito } from '../../lib/testing/index.js'
import {
  MACHINE, MACHINE_SECRET, SHORT_MACHINE, SHORT_SECRET, WEB_CLIENT, WEB_SECRET, WIDE_MACHINE, WIDE_SECRET,
  claimsOf, manualClock, rejection, startMachineIdp, tokenSource
} from '../helpers/client-credentials.js'

// Client credentials access tokens from the real local Cognito over HTTP, counted where Cognito would bill them.
const clock = manualClock()
let idp: LocalCognito

before(async () => { idp = await startMachineIdp(clock) })
after(async () => { await idp.close() })

/** Token requests the local Cognito has received since the last call. */
function tokenCalls (): () => number {
  const start = idp.requests.tokenClientCredentials
  return () => idp.requests.tokenClientCredentials - start
}

test('a machine token with the asked scopes: sub is the client id, no username, no groups', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain })
  const calls = tokenCalls()
  const claims = claimsOf(await source.getAccessToken())
  assert.equal(calls(), 1)
  assert.deepEqual([claims.sub, claims.client_id, claims.token_use, claims.scope, claims.iss], [MACHINE, MACHINE, 'access', 'orders/read', idp.issuer])
  assert.equal('username' in claims, false)
  assert.equal('cognito:groups' in claims, false)
})

test('no scopes: every scope the app client allows; several scopes go space-separated', async (t) => {
  const all = tokenSource(t, clock, { domain: idp.domain, clientId: WIDE_MACHINE, clientSecret: WIDE_SECRET, scopes: undefined })
  assert.equal(claimsOf(await all.getAccessToken()).scope, 'orders/read orders/write')
  const both = tokenSource(t, clock, { domain: `${idp.domain}/`, clientId: WIDE_MACHINE, clientSecret: WIDE_SECRET, scopes: ['orders/write', 'orders/read', 'orders/write'] })
  assert.equal(claimsOf(await both.getAccessToken()).scope, 'orders/write orders/read')
})

test('100 concurrent callers: one token request, one token', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain })
  const calls = tokenCalls()
  const tokens = await Promise.all(Array.from({ length: 100 }, async () => await source.getAccessToken()))
  assert.equal(calls(), 1)
  assert.equal(new Set(tokens).size, 1)
})

test('the token is reused during its life and fetched once again, single flight, refreshSkew before it expires', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain, refreshSkew: 120 })
  const calls = tokenCalls()
  const first = await source.getAccessToken()
  const claims = claimsOf(first)
  assert.equal(Number(claims.exp) - Number(claims.iat), 3600)

  clock.advance(3600 - 120 - 1)
  assert.equal(await source.getAccessToken(), first, 'one second before it is due: the cached token')
  assert.equal(calls(), 1)

  clock.advance(1)
  const renewed = await Promise.all(Array.from({ length: 100 }, async () => await source.getAccessToken()))
  assert.equal(calls(), 2, 'due: exactly one new token request for 100 callers')
  assert.equal(new Set(renewed).size, 1)
  assert.notEqual(renewed[0], first)
  assert.equal(Number(claimsOf(renewed[0] as string).iat), Math.floor(clock.now() / 1000), 'issued now, by the IdP\'s moved clock')
  assert.equal(await source.getAccessToken(), renewed[0])
  assert.equal(calls(), 2)
})

test('the default refreshSkew is 60 seconds', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain })
  const calls = tokenCalls()
  const first = await source.getAccessToken()
  clock.advance(3600 - 60 - 1)
  assert.equal(await source.getAccessToken(), first)
  clock.advance(1)
  assert.notEqual(await source.getAccessToken(), first)
  assert.equal(calls(), 2)
})

test('a skew longer than the token lives is capped to half its life: no token request on every call', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain, clientId: SHORT_MACHINE, clientSecret: SHORT_SECRET, scopes: undefined, refreshSkew: 600 })
  const calls = tokenCalls()
  const first = await source.getAccessToken()
  for (let second = 0; second < 29; second++) {
    assert.equal(await source.getAccessToken(), first)
    clock.advance(1)
  }
  assert.equal(await source.getAccessToken(), first, 'at 29 s of 60')
  assert.equal(calls(), 1)
  clock.advance(1)
  assert.notEqual(await source.getAccessToken(), first, 'at 30 s of 60: half its life')
  assert.equal(calls(), 2)
})

test('refreshSkew 0: the token is used up to its expiry', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain, clientId: SHORT_MACHINE, clientSecret: SHORT_SECRET, scopes: undefined, refreshSkew: 0 })
  const first = await source.getAccessToken()
  clock.advance(59)
  assert.equal(await source.getAccessToken(), first)
  clock.advance(1)
  assert.notEqual(await source.getAccessToken(), first)
})

test('getAccessToken works detached from its object', async (t) => {
  const { getAccessToken } = tokenSource(t, clock, { domain: idp.domain })
  assert.equal(claimsOf(await getAccessToken()).sub, MACHINE)
})

/** Every string an error can reach a log, a response or a monitoring tool through. */
function everythingSaidAbout (error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 10, showHidden: true }), JSON.stringify(error), String(error)]
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    parts.push(current.message, current.stack ?? '', JSON.stringify(current), inspect(current, { showHidden: true }))
  }
  return parts.join('\n')
}

test('invalid_client (wrong secret): 401 FST_COGNITO_INVALID_CLIENT for every waiter, and no secret anywhere in it', async (t) => {
  const wrongSecret = 'wrong-secret-3f9c2b7e81d4'
  const source = tokenSource(t, clock, { domain: idp.domain, clientSecret: wrongSecret })
  const calls = tokenCalls()
  const errors = await Promise.all(Array.from({ length: 10 }, async () => await rejection(source.getAccessToken())))
  assert.equal(calls(), 1, 'the waiters shared the one failed request')
  assert.equal(new Set(errors).size, 1, 'every waiter gets the same error')
  const error = errors[0] as Error & { code?: string, statusCode?: number }
  assert.deepEqual([error.code, error.statusCode], ['FST_COGNITO_INVALID_CLIENT', 401])
  const said = everythingSaidAbout(error) + everythingSaidAbout(source)
  const basic = Buffer.from(`${MACHINE}:${wrongSecret}`).toString('base64')
  for (const secret of [wrongSecret, basic, MACHINE_SECRET]) assert.equal(said.includes(secret), false, 'no secret, not even base64-encoded')

  await rejection(source.getAccessToken())
  assert.equal(calls(), 2, 'the failure was not cached: the next call asks again')
})

test('invalid_scope (a scope the client is not allowed): 400 FST_COGNITO_TOKEN_REQUEST_REJECTED', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain, scopes: ['orders/write'] })
  const error = await rejection(source.getAccessToken())
  assert.deepEqual([error.code, error.statusCode, error.error], ['FST_COGNITO_TOKEN_REQUEST_REJECTED', 400, 'invalid_scope'])
  assert.match(error.message, /invalid_scope/)
})

test('an app client without the grant (a browser sign-in client): unauthorized_client', async (t) => {
  const source = tokenSource(t, clock, { domain: idp.domain, clientId: WEB_CLIENT, clientSecret: WEB_SECRET })
  const error = await rejection(source.getAccessToken())
  assert.deepEqual([error.code, error.statusCode, error.error], ['FST_COGNITO_TOKEN_REQUEST_REJECTED', 400, 'unauthorized_client'])
})
