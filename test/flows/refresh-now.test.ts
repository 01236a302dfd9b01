import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import { refreshNow } from '../../lib/flows/refresh-now.js'
import type { CognitoSessionData } from '../../lib/session/model.js'
import { buildApp, login, pluginOptions, startIdp } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'
import { buildSignInContext } from '../helpers/context.js'

test('refreshNow: the session\'s tokens refreshed now, the new cookies on the reply, the new expiry returned', async (t) => {
  const clock = manualClock()
  const idp = await startIdp(t, { now: clock.now })
  const { jar } = await login(await buildApp(t, idp, 'public', { now: clock.now }), idp)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public', { now: clock.now }))
  app.post('/refresh', async (request, reply) => await refreshNow(context, request, reply))
  app.get('/session', async (request) => context.signIn.store.readSession(request))
  await app.ready()

  clock.advance(600)
  const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 200)
  assert.deepEqual(response.json(), { expiresAt: Math.floor(clock.seconds()) + 3600 })
  jar.store(response)
  const session = (await app.inject({ url: '/session', headers: { cookie: jar.header } })).json() as CognitoSessionData
  assert.equal(session.expiresAt, response.json().expiresAt)
  assert.equal(idp.requests.tokenRefresh, 1)
})

test('refreshNow without a session: 401 unauthenticated, nothing sent to Cognito', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  const context = await buildSignInContext(t, app, pluginOptions(idp, 'public'))
  app.post('/refresh', async (request, reply) => await refreshNow(context, request, reply))
  for (const cookie of ['', 'cognito_session.0=garbage']) {
    const response = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie } })
    assert.equal(response.statusCode, 401)
    assert.equal(response.json().code, 'FST_COGNITO_UNAUTHENTICATED')
  }
  assert.equal(idp.requests.tokenRefresh, 0)
})
