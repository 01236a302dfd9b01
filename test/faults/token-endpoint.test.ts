import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import { buildApp, login, startIdp } from '../helpers/app.js'
import { startFakeCognito, startPendingLogin, type FakeHandler } from '../helpers/fake-cognito.js'

/** An app whose token endpoint is the fake, while tokens verify against the real local IdP's keys. */
async function appWithTokenEndpoint (t: TestContext, token: FakeHandler, httpTimeout = 5000): Promise<{ app: FastifyInstance, idp: LocalCognito, calls: Record<string, number> }> {
  const idp = await startIdp(t)
  const fake = await startFakeCognito(t, { token })
  const app = await buildApp(t, idp, 'confidential', { domain: fake.domain, httpTimeout })
  app.log.level = 'silent'
  return { app, idp, calls: fake.calls }
}

async function callbackStatus (app: FastifyInstance): Promise<{ statusCode: number, code: string, sessionCookie: boolean }> {
  const pending = await startPendingLogin(app)
  const response = await app.inject({ url: pending.callback(), headers: { cookie: pending.jar.header } })
  return {
    statusCode: response.statusCode,
    code: response.json().code,
    sessionCookie: response.cookies.some((cookie: { name: string }) => cookie.name.includes('_session'))
  }
}

test('token endpoint timeout: 504 FST_COGNITO_IDP_TIMEOUT within httpTimeout', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async () => await new Promise(() => {}), 300)
  const started = Date.now()
  const result = await callbackStatus(app)
  assert.deepEqual(result, { statusCode: 504, code: 'FST_COGNITO_IDP_TIMEOUT', sessionCookie: false })
  assert.ok(Date.now() - started < 3000, 'bounded by httpTimeout')
})

test('token endpoint 500: 502 FST_COGNITO_IDP_BAD_RESPONSE', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(500).send({ error: 'internal' }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 502, code: 'FST_COGNITO_IDP_BAD_RESPONSE', sessionCookie: false })
})

test('token endpoint answers 200 with a body that is not JSON: 502', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(200).type('text/html').send('<html>maintenance</html>'))
  assert.deepEqual(await callbackStatus(app), { statusCode: 502, code: 'FST_COGNITO_IDP_BAD_RESPONSE', sessionCookie: false })
})

test('token endpoint answers 200 without tokens: 502', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async () => ({ token_type: 'Bearer', expires_in: 3600 }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 502, code: 'FST_COGNITO_IDP_BAD_RESPONSE', sessionCookie: false })
})

test('token endpoint answers 400 invalid_grant: 400 FST_COGNITO_INVALID_GRANT', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(400).send({ error: 'invalid_grant' }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 400, code: 'FST_COGNITO_INVALID_GRANT', sessionCookie: false })
})

test('token endpoint answers 400 invalid_client: 401 FST_COGNITO_INVALID_CLIENT', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(400).send({ error: 'invalid_client' }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 401, code: 'FST_COGNITO_INVALID_CLIENT', sessionCookie: false })
})

test('token endpoint answers another OAuth error: 400 FST_COGNITO_TOKEN_REQUEST_REJECTED', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(400).send({ error: 'unauthorized_client' }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 400, code: 'FST_COGNITO_TOKEN_REQUEST_REJECTED', sessionCookie: false })
})

test('token endpoint answers 400 without an OAuth error code: 502', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => await reply.code(400).send('bad'))
  assert.deepEqual(await callbackStatus(app), { statusCode: 502, code: 'FST_COGNITO_IDP_BAD_RESPONSE', sessionCookie: false })
})

test('an oversized token response is cut off: 502', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async () => ({ access_token: 'x'.repeat(1024 * 1024) }))
  assert.deepEqual(await callbackStatus(app), { statusCode: 502, code: 'FST_COGNITO_IDP_BAD_RESPONSE', sessionCookie: false })
})

test('a response that drips slower than httpTimeout is cut off: 504', async (t) => {
  const { app } = await appWithTokenEndpoint(t, async (_request, reply) => {
    reply.raw.writeHead(200, { 'content-type': 'application/json' })
    reply.raw.write('{"access_token":"')
    const timer = setInterval(() => { if (!reply.raw.destroyed) reply.raw.write('a') }, 100)
    reply.raw.on('close', () => clearInterval(timer))
    setTimeout(() => clearInterval(timer), 5000)
    return reply
  }, 400)
  const started = Date.now()
  assert.deepEqual(await callbackStatus(app), { statusCode: 504, code: 'FST_COGNITO_IDP_TIMEOUT', sessionCookie: false })
  assert.ok(Date.now() - started < 3000)
})

test('token endpoint unreachable: 503 FST_COGNITO_IDP_UNAVAILABLE', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'public', { domain: 'http://127.0.0.1:9' })
  app.log.level = 'silent'
  assert.deepEqual(await callbackStatus(app), { statusCode: 503, code: 'FST_COGNITO_IDP_UNAVAILABLE', sessionCookie: false })
})

test('a failed refresh caused by the network keeps the session; invalid_grant ends it', async (t) => {
  const idp = await startIdp(t)
  let answer: 'down' | 'invalid_grant' = 'down'
  const fake = await startFakeCognito(t, {
    token: async (_request, reply) => answer === 'down' ? await reply.code(503).send('unavailable') : await reply.code(400).send({ error: 'invalid_grant' })
  })
  const real = await buildApp(t, idp, 'public')
  const { jar } = await login(real, idp)
  const app = await buildApp(t, idp, 'public', { domain: fake.domain })
  app.log.level = 'silent'
  const down = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(down.statusCode, 502)
  assert.equal(down.headers['set-cookie'], undefined)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  answer = 'invalid_grant'
  const revoked = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(revoked.statusCode, 401)
  assert.equal(revoked.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  jar.store(revoked)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
  assert.equal(fake.calls.token, 2)
})
