import assert from 'node:assert/strict'
import { test } from 'node:test'
import fastifySwagger from '@fastify/swagger'
import Fastify from 'fastify'
import fastifyCognito, { CognitoInvalidOptionError } from '../../lib/index.js'
import { createTokenIssuer } from '../../lib/testing/index.js'
import { documentedApp, OPENAPI, SIGN_IN, validDocument } from './helpers.js'

test('guardContext guards every route of a context, and they are documented; a plain addHook guard works but is not seen', async (t) => {
  const issuer = await createTokenIssuer()
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifySwagger, OPENAPI)
  await app.register(fastifyCognito, issuer.pluginOptions({ prefetchJwks: false }))
  await app.register(async (admin) => {
    app.cognito.guardContext(admin, { groups: ['admin'] })
    admin.get('/users', async (request) => ({ user: request.user?.username }))
    admin.post('/users', { preHandler: async () => {} }, async () => ({ created: true }))
  }, { prefix: '/admin' })
  await app.register(async (hooked) => {
    hooked.addHook('preHandler', app.cognito.requireAuth())
    hooked.get('/hooked', async () => ({ ok: true }))
  })
  await app.ready()

  const alice = { authorization: `Bearer ${issuer.mintAccessToken()}` }
  const bob = { authorization: `Bearer ${issuer.mintAccessToken({}, { username: 'bob' })}` }
  assert.deepEqual((await app.inject({ url: '/admin/users', headers: alice })).json(), { user: 'alice' })
  assert.equal((await app.inject({ url: '/admin/users', headers: bob })).statusCode, 403)
  const anonymous = await app.inject({ method: 'POST', url: '/admin/users' })
  assert.equal(anonymous.statusCode, 401)
  assert.equal(anonymous.headers['www-authenticate'], 'Bearer')
  assert.equal((await app.inject({ url: '/hooked' })).statusCode, 401)

  const document = await validDocument(app)
  for (const method of ['get', 'post']) {
    const operation = document.paths['/admin/users'][method]
    assert.deepEqual(operation.security, [{ cognito: [] }, { cognitoBearer: [] }], method)
    assert.deepEqual(Object.keys(operation.responses).sort(), ['200', '401', '403'])
  }
  assert.equal(document.paths['/hooked'].get.security, undefined, 'a guard added with addHook is invisible to onRoute')
  // The plugin's own routes stay open even when the context guarded is the app itself (see below).
  assert.equal(document.paths['/login'].get.security, undefined)
})

test('guardContext on the app itself leaves the plugin\'s routes open', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, { ...SIGN_IN })
  app.cognito.guardContext(app)
  app.get('/private', async () => ({ ok: true }))
  await app.ready()
  assert.equal((await app.inject({ url: '/private' })).statusCode, 401)
  // The plugin's routes were registered before guardContext, and are skipped by it in any case.
  assert.equal((await app.inject({ url: '/login' })).statusCode, 302)
})

test('guardContext needs an instance', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, SIGN_IN)
  assert.throws(() => { app.cognito.guardContext(undefined as never) }, (error: unknown) => error instanceof CognitoInvalidOptionError && /needs the Fastify instance/.test(error.message))
})

test('the documentation changes no answer: error bodies, a user\'s setErrorHandler, serialization', async (t) => {
  const issuer = await createTokenIssuer({ scopes: ['openid'] })
  const app = await documentedApp(t, 'swagger-first', issuer.pluginOptions({ prefetchJwks: false }), (app) => {
    app.get('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => ({ ok: true, extra: 'kept' }))
    app.register(async (own) => {
      own.setErrorHandler(async (error, _request, reply) => {
        const status = (error as { statusCode?: number }).statusCode ?? 500
        return await reply.code(status).send({ problem: (error as { code?: string }).code, detail: 'from my handler' })
      })
      own.get('/own', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => ({ ok: true }))
    })
  })
  const anonymous = await app.inject({ url: '/orders' })
  assert.equal(anonymous.statusCode, 401)
  assert.deepEqual(Object.keys(anonymous.json()).sort(), ['code', 'error', 'message', 'statusCode'])
  const token = { authorization: `Bearer ${issuer.mintAccessToken()}` }
  const forbidden = await app.inject({ url: '/orders', headers: token })
  assert.equal(forbidden.statusCode, 403)
  assert.match(forbidden.headers['www-authenticate'] as string, /insufficient_scope/)
  assert.equal(forbidden.json().code, 'FST_COGNITO_FORBIDDEN')
  const allowed = await app.inject({ url: '/orders', headers: { authorization: `Bearer ${issuer.mintAccessToken({ scope: 'orders/read' })}` } })
  assert.deepEqual(allowed.json(), { ok: true, extra: 'kept' }, 'no response schema was added to the route')

  const own = await app.inject({ url: '/own', headers: token })
  assert.deepEqual([own.statusCode, own.json()], [403, { problem: 'FST_COGNITO_FORBIDDEN', detail: 'from my handler' }])
  assert.ok((await validDocument(app)).paths['/own'].get.responses['403'])
})
