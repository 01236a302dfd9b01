import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { CLIENT_IDS, pluginOptions, startIdp } from '../helpers/app.js'

// Loopback only, bounded in time: 50 connections for 15 s against a guarded route while the IdP's JWKS endpoint
// flaps every 250 ms. Valid tokens must always pass (the keys are cached), tokens with unknown kids must be
// refused (401, or 503 while the JWKS is down), and memory must come back to where it was.
const DURATION_SECONDS = 15

/** Memory after full collections (npm test runs borp with --expose-gc): the JS heap and external memory are where a leak shows. */
function settledMemory (): { rss: number, js: number } {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) { gc(); gc() }
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, js: heapUsed + external }
}

const mb = (bytes: number): number => Math.round(bytes / 1e6)

test('load: a guarded route under 50 connections while the JWKS flaps', { timeout: 60_000 }, async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { jwksCooldown: 200 }))
  app.get('/orders', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  const valid = await Promise.all(Array.from({ length: 20 }, async () => await idp.mintAccessToken('alice', CLIENT_IDS.public)))
  const unknownKid = await Promise.all(Array.from({ length: 5 }, async () => await idp.mintAccessToken('alice', CLIENT_IDS.public, { header: { kid: randomBytes(9).toString('base64') } })))
  const counts = { validOk: 0, validOther: 0, unknownRefused: 0, unknownOther: 0 }
  const requests = [
    ...valid.map((token) => ({ method: 'GET' as const, path: '/orders', headers: { authorization: `Bearer ${token}` }, onResponse: (status: number) => { if (status === 200) counts.validOk++; else counts.validOther++ } })),
    ...unknownKid.map((token) => ({ method: 'GET' as const, path: '/orders', headers: { authorization: `Bearer ${token}` }, onResponse: (status: number) => { if (status === 401 || status === 503) counts.unknownRefused++; else counts.unknownOther++ } }))
  ]

  // Warm up with the same 50 connections (sockets, buffers, caches, JIT), then measure memory against that.
  await autocannon({ url: address, connections: 50, duration: 4, requests })
  const before = settledMemory()
  let up = true
  const flapping = setInterval(() => { up = !up; idp.setJwksAvailable(up) }, 250)
  t.after(() => { clearInterval(flapping) })
  const jwksBefore = idp.requests.jwks
  Object.assign(counts, { validOk: 0, validOther: 0, unknownRefused: 0, unknownOther: 0 })
  const result = await autocannon({ url: address, connections: 50, duration: DURATION_SECONDS, requests })
  clearInterval(flapping)
  idp.setJwksAvailable(true)
  const after = settledMemory()

  assert.equal(result.errors, 0, 'no connection errors')
  assert.equal(result.timeouts, 0, 'no timeouts')
  assert.ok(counts.validOk > 1000, `served ${counts.validOk} valid requests`)
  assert.equal(counts.validOther, 0, 'every valid token passed')
  assert.ok(counts.unknownRefused > 0)
  assert.equal(counts.unknownOther, 0, 'every unknown kid was refused with 401 or 503')
  const fetches = idp.requests.jwks - jwksBefore
  assert.ok(fetches <= Math.ceil(DURATION_SECONDS * 1000 / 200) + 2, `JWKS fetched ${fetches} times: at most once per cooldown`)
  assert.ok(after.js < before.js * 1.2 + 5e6, `heap + external ${mb(before.js)} MB -> ${mb(after.js)} MB`)
  // glibc keeps the per-thread malloc arenas it used (up to ~50 MB more on Node 22, not a leak: the JS heap stays
  // flat): a looser bound on RSS still catches a native leak.
  assert.ok(after.rss < before.rss * 1.5, `RSS ${mb(before.rss)} MB -> ${mb(after.rss)} MB`)
  t.diagnostic(`${result.requests.total} requests, ${Math.round(result.requests.average)} req/s, JWKS fetched ${fetches} times, heap + external ${mb(before.js)} -> ${mb(after.js)} MB, RSS ${mb(before.rss)} -> ${mb(after.rss)} MB`)
})
