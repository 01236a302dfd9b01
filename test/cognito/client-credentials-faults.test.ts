import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, test } from 'node:test'
import type { LocalCognito } from '../../lib/testing/index.js'
import { forwardTo, startFakeCognito, type ExchangeRecord, type FakeHandler } from '../helpers/fake-cognito.js'
import { MACHINE, MACHINE_SECRET, claimsOf, manualClock, rejection, startMachineIdp, tokenSource } from '../helpers/client-credentials.js'

// Token-endpoint faults a real IdP cannot be asked for, from a fake endpoint on loopback that forwards to the
// local Cognito when it is not failing.
const clock = manualClock()
let idp: LocalCognito

before(async () => { idp = await startMachineIdp(clock) })
after(async () => { await idp.close() })

test('a failure is not cached: 502 for every waiter of the failed request, a token on the next call', async (t) => {
  const records: ExchangeRecord[] = []
  let failures = 1
  const forward = forwardTo(idp.domain, '/oauth2/token', records)
  const fake = await startFakeCognito(t, {
    token: async (request, reply) => failures-- > 0 ? await reply.code(500).send({ error: 'internal' }) : await forward(request, reply)
  })
  const source = tokenSource(t, clock, { domain: fake.domain })
  const errors = await Promise.all(Array.from({ length: 20 }, async () => await rejection(source.getAccessToken())))
  assert.equal(fake.calls.token, 1)
  assert.equal(new Set(errors).size, 1)
  assert.deepEqual([errors[0]?.code, errors[0]?.statusCode], ['FST_COGNITO_IDP_BAD_RESPONSE', 502])

  const tokens = await Promise.all(Array.from({ length: 20 }, async () => await source.getAccessToken()))
  assert.equal(new Set(tokens).size, 1)
  assert.equal(claimsOf(tokens[0] as string).sub, MACHINE)
  await source.getAccessToken()
  assert.equal(fake.calls.token, 2, 'one failed request, one that succeeded, then the cache')

  // What went over the wire: the grant and the scope in the body, the client's credentials in HTTP Basic only.
  assert.deepEqual(fake.forms.at(-1), { grant_type: 'client_credentials', scope: 'orders/read' })
  assert.equal(records[0]?.authorization, `Basic ${Buffer.from(`${MACHINE}:${MACHINE_SECRET}`).toString('base64')}`)
})

test('answers that are no token: 502 FST_COGNITO_IDP_BAD_RESPONSE', async (t) => {
  const valid = { access_token: 'opaque-token', token_type: 'Bearer', expires_in: 3600 }
  const cases: Array<[string, FakeHandler]> = [
    ['503', async (_request, reply) => await reply.code(503).send('')],
    ['400 without an OAuth error code', async (_request, reply) => await reply.code(400).send({ message: 'no' })],
    ['200 HTML', async (_request, reply) => await reply.code(200).type('text/html').send('<html>maintenance</html>')],
    ['200 JSON array', async () => [valid]],
    ['no access_token', async () => ({ ...valid, access_token: undefined })],
    ['an access_token that could split a header', async () => ({ ...valid, access_token: 'a\r\nx-injected: 1' })],
    ['an empty access_token', async () => ({ ...valid, access_token: '' })],
    ['no token_type', async () => ({ ...valid, token_type: undefined })],
    ['token_type mac', async () => ({ ...valid, token_type: 'mac' })],
    ['no expires_in', async () => ({ ...valid, expires_in: undefined })],
    ['expires_in 0', async () => ({ ...valid, expires_in: 0 })],
    ['expires_in as a string', async () => ({ ...valid, expires_in: '3600' })],
    ['an oversized answer', async () => ({ ...valid, access_token: 'x'.repeat(512 * 1024) })]
  ]
  for (const [name, handler] of cases) {
    const fake = await startFakeCognito(t, { token: handler })
    const error = await rejection(tokenSource(t, clock, { domain: fake.domain }).getAccessToken())
    assert.deepEqual([error.code, error.statusCode], ['FST_COGNITO_IDP_BAD_RESPONSE', 502], name)
    assert.equal(error.message.includes('x-injected'), false, 'the answer is not quoted back')
  }
})

test('the token endpoint refuses connections: 503 FST_COGNITO_IDP_UNAVAILABLE', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  const source = tokenSource(t, clock, { domain: `http://127.0.0.1:${port}` })
  const error = await rejection(source.getAccessToken())
  assert.deepEqual([error.code, error.statusCode], ['FST_COGNITO_IDP_UNAVAILABLE', 503])
  assert.equal(JSON.stringify(error).includes(MACHINE_SECRET), false)
})

test('a token endpoint that never answers: 504 FST_COGNITO_IDP_TIMEOUT within the http timeout, for every waiter', async (t) => {
  const fake = await startFakeCognito(t, { token: async () => await new Promise(() => {}) })
  const source = tokenSource(t, clock, { domain: fake.domain }, 300)
  const started = Date.now()
  const errors = await Promise.all(Array.from({ length: 5 }, async () => await rejection(source.getAccessToken())))
  assert.ok(Date.now() - started < 3000, `bounded by the http timeout (${Date.now() - started} ms)`)
  assert.equal(new Set(errors).size, 1)
  assert.deepEqual([errors[0]?.code, errors[0]?.statusCode], ['FST_COGNITO_IDP_TIMEOUT', 504])
  assert.equal(fake.calls.token, 1)
})

test('a token already due when it arrives goes to its waiters but is not kept', async (t) => {
  const fake = await startFakeCognito(t, {
    token: async () => {
      const accessToken = await idp.mintMachineToken(MACHINE, { scopes: ['orders/read'] })
      clock.advance(3600 - 30) // the request "took" longer than the token's life minus the skew
      return { access_token: accessToken, token_type: 'Bearer', expires_in: 3600 }
    }
  })
  const source = tokenSource(t, clock, { domain: fake.domain })
  const [first, second] = await Promise.all([source.getAccessToken(), source.getAccessToken()])
  assert.equal(first, second)
  assert.equal(fake.calls.token, 1)
  assert.notEqual(await source.getAccessToken(), first)
  assert.equal(fake.calls.token, 2)
})

test('the token\'s own lifetime (exp - iat) bounds a longer expires_in; an opaque token lives by expires_in', async (t) => {
  const jwt = await idp.mintMachineToken(MACHINE, { scopes: ['orders/read'], expiresInSeconds: 120 })
  let answer: Record<string, unknown> = { access_token: jwt, token_type: 'Bearer', expires_in: 3600 }
  const fake = await startFakeCognito(t, { token: async () => answer })
  const source = tokenSource(t, clock, { domain: fake.domain })
  await source.getAccessToken()
  clock.advance(59)
  await source.getAccessToken()
  assert.equal(fake.calls.token, 1, 'before half of its 120 s (the skew of 60 s is capped to half)')
  answer = { access_token: 'opaque.token', token_type: 'bearer', expires_in: 600 }
  clock.advance(1)
  assert.equal(await source.getAccessToken(), 'opaque.token')
  assert.equal(fake.calls.token, 2)
  clock.advance(600 - 60 - 1)
  assert.equal(await source.getAccessToken(), 'opaque.token')
  assert.equal(fake.calls.token, 2)
})
