import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { capturingLogger, CONFIDENTIAL_SECRET, CookieJar, location, pluginOptions, SESSION_SECRET, signInAtIdp, startIdp } from '../helpers/app.js'
import { forwardTo, startFakeCognito, type ExchangeRecord } from '../helpers/fake-cognito.js'

test('a full flow with the logger at trace leaves no token, code, verifier or secret in the log output', async (t) => {
  const idp = await startIdp(t)
  const exchanges: ExchangeRecord[] = []
  const proxy = await startFakeCognito(t, {
    token: forwardTo(idp.domain, '/oauth2/token', exchanges),
    revoke: forwardTo(idp.domain, '/oauth2/revoke', exchanges)
  })
  const { logger, lines } = capturingLogger('trace')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'confidential', { domain: proxy.domain }))
  app.get('/me', { preHandler: app.cognito.requireAuth({ groups: ['nobody'] }) }, async (request) => request.user)
  await app.ready()

  const jar = new CookieJar()
  const start = await app.inject({ url: '/login' })
  jar.store(start)
  const authorize = new URL(location(start))
  const callbackUrl = await signInAtIdp(idp, new URL(authorize.pathname + authorize.search, idp.domain).href, 'alice', 'alice-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  assert.equal(callback.statusCode, 302)
  jar.store(callback)
  await app.inject({ url: '/me', headers: { cookie: jar.header } })
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 200)
  jar.store(refresh)
  const tokens = exchanges.filter((exchange) => exchange.status === 200 && exchange.body !== '').map((exchange) => JSON.parse(exchange.body) as Record<string, string>)
  const bearer = tokens[0]?.access_token ?? ''
  await app.inject({ url: '/me', headers: { authorization: `Bearer ${bearer}` } })
  await app.inject({ url: '/me', headers: { authorization: `Bearer ${bearer.slice(0, -4)}AAAA` } })
  await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })

  const secrets: Record<string, string> = {
    'authorization code': callbackUrl.searchParams.get('code') ?? '',
    'code verifier': exchanges[0]?.form.code_verifier ?? '',
    'client secret': CONFIDENTIAL_SECRET,
    'session secret': SESSION_SECRET,
    'basic credentials': (exchanges[0]?.authorization ?? '').replace(/^Basic /, '')
  }
  tokens.forEach((set, i) => {
    for (const [name, value] of Object.entries(set)) if (name.endsWith('_token')) secrets[`${name} #${i}`] = value
  })
  assert.ok(Object.keys(secrets).length >= 9, 'access, ID and refresh tokens were captured')
  assert.ok(lines.length > 20, 'the logger was busy')
  const output = lines.join('')
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(value.length >= 16, `${name} was captured`)
    // Any 24-character piece of a secret would already be a leak.
    for (const piece of [value.slice(0, 24), value.slice(-24)]) assert.equal(output.includes(piece), false, `${name} appears in the logs`)
  }
})
