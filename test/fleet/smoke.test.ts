import { test } from 'node:test'
import assert from 'node:assert/strict'
import { login, startIdp } from '../helpers/app.js'
import { startRedis } from '../helpers/redis-server.js'
import { buildFleet } from './helpers.js'

test('smoke: login on A, read on B, logout on C refused everywhere', async (t) => {
  const idp = await startIdp(t)
  const redis = await startRedis(t)
  const [a, b, c] = await buildFleet(t, idp, redis, 3)
  const { jar } = await login(a!, idp)
  for (const app of [a!, b!, c!]) {
    const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(me.statusCode, 200, me.body)
  }
  const out = await c!.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: 'http://localhost:3000' } })
  assert.equal(out.statusCode, 302, out.body)
  await new Promise((resolve) => setTimeout(resolve, 50))
  for (const app of [a!, b!, c!]) {
    const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(me.statusCode, 401, me.body)
  }
})
