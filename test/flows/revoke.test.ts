import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import type { CognitoClient } from '../../lib/cognito/client.js'
import type { SignInContext } from '../../lib/context.js'
import { revokeBestEffort } from '../../lib/flows/revoke.js'
import { capturingLogger, pluginOptions, startIdp } from '../helpers/app.js'
import { buildSignInContext } from '../helpers/context.js'
import { startHttpServer, sendJson } from '../helpers/http-server.js'

interface LogLine { level: number, msg: string, code?: string }

test('revokes the refresh token at Cognito\'s revoke endpoint', async (t) => {
  const server = await startHttpServer(t, (_request, response) => { response.writeHead(200); response.end() })
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'confidential', { domain: server.origin }))
  app.post('/revoke', async (request) => { await revokeBestEffort(context, request.log, 'the-refresh-token'); return { ok: true } })
  assert.equal((await app.inject({ method: 'POST', url: '/revoke' })).statusCode, 200)
  assert.equal(server.requests[0]?.url, '/oauth2/revoke')
  assert.equal(new URLSearchParams(server.requests[0]?.body).get('token'), 'the-refresh-token')
})

test('no refresh token: nothing to revoke, no call', async (t) => {
  const server = await startHttpServer(t, (_request, response) => { response.writeHead(200); response.end() })
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', { domain: server.origin }))
  app.post('/revoke', async (request) => { await revokeBestEffort(context, request.log, undefined); return { ok: true } })
  assert.equal((await app.inject({ method: 'POST', url: '/revoke' })).statusCode, 200)
  assert.equal(server.requests.length, 0)
})

test('a failure never reaches the caller: it is logged at warn with its code only', async (t) => {
  const server = await startHttpServer(t, (_request, response) => { sendJson(response, 400, { error: 'unsupported_token_type' }) })
  const idp = await startIdp(t)
  const { logger, lines } = capturingLogger('warn')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', { domain: server.origin }))
  app.post('/revoke', async (request) => { await revokeBestEffort(context, request.log, 'secret-refresh-token'); return { ok: true } })
  assert.equal((await app.inject({ method: 'POST', url: '/revoke' })).statusCode, 200)
  const logged = lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === 'fastify-cognito: revoking the refresh token failed')
  assert.deepEqual(logged.map((line) => [line.level, line.code]), [[40, 'FST_COGNITO_TOKEN_REQUEST_REJECTED']])
  assert.equal(lines.join('').includes('secret-refresh-token'), false)
})

test('a failure that is not a CognitoError is logged as "unknown"', async (t) => {
  // The real client only throws typed errors: a context whose client throws anything else stands in for a bug.
  const { logger, lines } = capturingLogger('warn')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  const client = { revoke: async () => { throw new TypeError('not typed') } } as unknown as CognitoClient
  const context = { signIn: { client } } as unknown as SignInContext
  app.post('/revoke', async (request) => { await revokeBestEffort(context, request.log, 'r'); return { ok: true } })
  assert.equal((await app.inject({ method: 'POST', url: '/revoke' })).statusCode, 200)
  assert.ok(lines.map((line) => JSON.parse(line) as LogLine).some((line) => line.code === 'unknown' && line.level === 40))
})
