import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { assertSameOrigin } from '../../lib/routes/same-origin.js'
import { APP_ORIGIN } from '../helpers/app.js'

async function status (headers: Record<string, string>): Promise<number> {
  const app = Fastify()
  app.post('/change', async (request) => { assertSameOrigin(request, APP_ORIGIN); return { ok: true } })
  try {
    const response = await app.inject({ method: 'POST', url: '/change', headers })
    if (response.statusCode === 403) assert.equal(response.json().code, 'FST_COGNITO_CROSS_SITE_REQUEST')
    return response.statusCode
  } finally {
    await app.close()
  }
}

test('requests of the app itself pass: same origin, a user-typed navigation, or no browser signal at all', async () => {
  assert.equal(await status({ origin: APP_ORIGIN, 'sec-fetch-site': 'same-origin' }), 200)
  assert.equal(await status({ origin: APP_ORIGIN }), 200)
  assert.equal(await status({ 'sec-fetch-site': 'same-origin' }), 200)
  assert.equal(await status({ 'sec-fetch-site': 'none' }), 200)
  assert.equal(await status({}), 200, 'curl, a server: no Origin, no Sec-Fetch-Site')
})

test('another site is refused by either header', async () => {
  const crossSite: Array<Record<string, string>> = [
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { 'sec-fetch-site': 'cross-site', origin: APP_ORIGIN },
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: 'http://localhost:3001' },
    { origin: `${APP_ORIGIN}/` },
    { origin: 'HTTP://LOCALHOST:3000' },
    { origin: APP_ORIGIN, 'sec-fetch-site': 'same-site' },
    { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }
  ]
  for (const headers of crossSite) {
    assert.equal(await status(headers), 403, JSON.stringify(headers))
  }
})
