import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import fastifyAuth from '@fastify/auth'
import fastifySensible from '@fastify/sensible'
import fastifySwagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { createTokenIssuer, type CognitoTokenIssuer } from '../../lib/testing/index.js'
import { validDocument } from './helpers.js'

// @fastify/auth runs strategies with (request, reply, done) and takes a returned promise instead: the guard does
// both, deciding at once (done) when it can and returning a promise otherwise.

const API_KEY = 'the-api-key'

/** Another strategy: an API key header; refused with @fastify/sensible's 401 (no WWW-Authenticate of the guard's kind). */
async function apiKey (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.headers['x-api-key'] !== API_KEY) throw reply.server.httpErrors.unauthorized('Bad API key')
}

async function authApp (t: TestContext, issuer: CognitoTokenIssuer, setUp: (app: FastifyInstance) => void = () => {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifySensible)
  await app.register(fastifyAuth)
  await app.register(fastifyCognito, issuer.pluginOptions({ prefetchJwks: false }))
  setUp(app)
  const admin = app.cognito.requireAuth({ groups: ['admin'] })
  app.get('/or', { preHandler: app.auth([apiKey, admin]) }, async (request) => ({ user: request.user?.username ?? null }))
  app.get('/and', { preHandler: app.auth([apiKey, admin], { relation: 'and' }) }, async (request) => ({ user: request.user?.username ?? null }))
  app.get('/guard-last', { preHandler: app.auth([admin, apiKey]) }, async (request) => ({ user: request.user?.username ?? null }))
  await app.ready()
  return app
}

test('or: either strategy admits; when both refuse, the last one\'s refusal is the answer', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await authApp(t, issuer)
  const alice = { authorization: `Bearer ${issuer.mintAccessToken()}` }
  const bob = { authorization: `Bearer ${issuer.mintAccessToken({}, { username: 'bob' })}` }

  assert.deepEqual((await app.inject({ url: '/or', headers: alice })).json(), { user: 'alice' })
  assert.deepEqual((await app.inject({ url: '/or', headers: { 'x-api-key': API_KEY } })).json(), { user: null })

  // The guard's refusals, when it is the last strategy: status, code and WWW-Authenticate kept.
  const anonymous = await app.inject({ url: '/or' })
  assert.deepEqual([anonymous.statusCode, anonymous.json().code, anonymous.headers['www-authenticate']], [401, 'FST_COGNITO_UNAUTHENTICATED', 'Bearer'])
  const forbidden = await app.inject({ url: '/or', headers: bob })
  assert.deepEqual([forbidden.statusCode, forbidden.json().code, forbidden.headers['www-authenticate']], [403, 'FST_COGNITO_FORBIDDEN', 'Bearer'])
  const badToken = await app.inject({ url: '/or', headers: { authorization: 'Bearer not.a.token' } })
  assert.equal(badToken.statusCode, 401)
  assert.match(badToken.headers['www-authenticate'] as string, /^Bearer error="invalid_token"/)

  // The API key strategy last: its (sensible) refusal is the answer.
  const last = await app.inject({ url: '/guard-last' })
  assert.deepEqual([last.statusCode, last.json().message], [401, 'Bad API key'])
  assert.deepEqual((await app.inject({ url: '/guard-last', headers: alice })).json(), { user: 'alice' })
})

test('and: both must admit; the guard\'s refusal keeps its status and WWW-Authenticate', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await authApp(t, issuer)
  const key = { 'x-api-key': API_KEY }
  const alice = { authorization: `Bearer ${issuer.mintAccessToken()}` }
  const bob = { authorization: `Bearer ${issuer.mintAccessToken({}, { username: 'bob' })}` }

  assert.deepEqual((await app.inject({ url: '/and', headers: { ...key, ...alice } })).json(), { user: 'alice' })
  assert.equal((await app.inject({ url: '/and', headers: alice })).statusCode, 401, 'no API key')
  const noToken = await app.inject({ url: '/and', headers: key })
  assert.deepEqual([noToken.statusCode, noToken.json().code, noToken.headers['www-authenticate']], [401, 'FST_COGNITO_UNAUTHENTICATED', 'Bearer'])
  const forbidden = await app.inject({ url: '/and', headers: { ...key, ...bob } })
  assert.deepEqual([forbidden.statusCode, forbidden.json().code], [403, 'FST_COGNITO_FORBIDDEN'])
})

test('a user\'s setErrorHandler receives the guard\'s errors through @fastify/auth', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await authApp(t, issuer, (app) => {
    app.setErrorHandler(async (error, _request, reply) => {
      const { statusCode = 500, code } = error as { statusCode?: number, code?: string }
      return await reply.code(statusCode).send({ mine: true, code: code ?? null })
    })
  })
  const anonymous = await app.inject({ url: '/and', headers: { 'x-api-key': API_KEY } })
  assert.deepEqual([anonymous.statusCode, anonymous.json(), anonymous.headers['www-authenticate']], [401, { mine: true, code: 'FST_COGNITO_UNAUTHENTICATED' }, 'Bearer'])
  const bob = await app.inject({ url: '/or', headers: { authorization: `Bearer ${issuer.mintAccessToken({}, { username: 'bob' })}` } })
  assert.deepEqual([bob.statusCode, bob.json()], [403, { mine: true, code: 'FST_COGNITO_FORBIDDEN' }])
})

test('sensible-style replies and the guard in one app: reply.unauthorized() and the guard\'s errors side by side', async (t) => {
  const issuer = await createTokenIssuer()
  const app = await authApp(t, issuer, (app) => {
    app.get('/sensible', async (_request, reply) => reply.unauthorized('Nope'))
    app.get('/guarded', { preHandler: app.cognito.requireAuth() }, async () => ({ ok: true }))
  })
  const sensible = await app.inject({ url: '/sensible' })
  assert.deepEqual([sensible.statusCode, sensible.json().message], [401, 'Nope'])
  const guarded = await app.inject({ url: '/guarded' })
  assert.deepEqual([guarded.statusCode, guarded.json().code, guarded.headers['www-authenticate']], [401, 'FST_COGNITO_UNAUTHENTICATED', 'Bearer'])
})

test('browser navigations: a guard sends them to sign in (ending the chain), unless redirectToLogin is false', async (t) => {
  const issuer = await createTokenIssuer()
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifySensible)
  await app.register(fastifyAuth)
  await app.register(fastifyCognito, issuer.pluginOptions({ prefetchJwks: false }))
  let handled = 0
  const handler = async (): Promise<{ ok: boolean }> => { handled++; return { ok: true } }
  app.get('/redirects', { preHandler: app.auth([app.cognito.requireAuth(), apiKey]) }, handler)
  app.get('/api-first', { preHandler: app.auth([app.cognito.requireAuth({ redirectToLogin: false }), apiKey]) }, handler)
  await app.ready()
  const navigation = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'x-api-key': API_KEY }

  const redirected = await app.inject({ url: '/redirects', headers: navigation })
  assert.deepEqual([redirected.statusCode, redirected.headers.location, handled], [302, '/login?returnTo=%2Fredirects', 0])
  const admitted = await app.inject({ url: '/api-first', headers: navigation })
  assert.deepEqual([admitted.statusCode, handled], [200, 1])
  // The guard refused before the API key admitted the request: its WWW-Authenticate stays on the answer.
  assert.equal(admitted.headers['www-authenticate'], 'Bearer')
})

test('a route guarded through @fastify/auth declares its security itself; the schemes are in the document', async (t) => {
  const issuer = await createTokenIssuer()
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifySwagger, {
    openapi: { openapi: '3.0.3', info: { title: 'auth', version: '1.0.0' }, components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } } }
  })
  await app.register(fastifyAuth)
  await app.register(fastifyCognito, { ...issuer.pluginOptions({ prefetchJwks: false }), domain: undefined, redirectUri: undefined, sessionSecret: undefined })
  app.get('/either', {
    preHandler: app.auth([app.cognito.requireAuth(), apiKey]),
    schema: { security: [{ cognitoBearer: [] }, { apiKey: [] }] }
  }, async () => ({ ok: true }))
  await app.ready()
  const document = await validDocument(app)
  assert.deepEqual(document.paths['/either'].get.security, [{ cognitoBearer: [] }, { apiKey: [] }])
  assert.deepEqual(Object.keys(document.components.securitySchemes), ['apiKey', 'cognitoBearer'])
})
