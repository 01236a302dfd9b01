import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { buildApp, capturingLogger, CookieJar, location, login, pluginOptions, signInAtIdp, startIdp } from '../helpers/app.js'

test('Cognito error=access_denied ends in a typed 403, its description is not echoed', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const start = await app.inject({ url: '/login' })
  const jar = new CookieJar().store(start)
  const state = new URL(location(start)).searchParams.get('state') ?? ''
  const response = await app.inject({
    url: `/login/redirect?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}`,
    headers: { cookie: jar.header }
  })
  assert.equal(response.statusCode, 403)
  assert.equal(response.json().code, 'FST_COGNITO_AUTHORIZATION_ERROR')
  assert.match(response.headers['content-type'] as string, /application\/json/)
  assert.doesNotMatch(response.body, /<script>/)
  jar.store(response)
  assert.equal(jar.cookies.has('cognito_login'), false, 'the login is spent')
})

test('an error code that is not an OAuth error code is reduced to "unknown"', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/login/redirect?error=%3Cimg%20src%3Dx%3E' })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_AUTHORIZATION_ERROR')
  assert.doesNotMatch(response.body, /<img/)
})

test('a repeated query parameter is refused', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/login/redirect?state=a&state=b&code=c' })
  assert.equal(response.statusCode, 400)
  assert.equal(response.json().code, 'FST_COGNITO_INVALID_CALLBACK')
})

test('logins started in two tabs both complete', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const jar = new CookieJar()
  const first = await app.inject({ url: '/login?returnTo=/first' })
  jar.store(first)
  const second = await app.inject({ url: '/login?returnTo=/second', headers: { cookie: jar.header } })
  jar.store(second)
  const firstCallback = await signInAtIdp(idp, location(first), 'alice', 'alice-password-1')
  const response = await app.inject({ url: firstCallback.pathname + firstCallback.search, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 302)
  assert.equal(response.headers.location, '/first')
})

test('the callback route never logs the authorization code', async (t) => {
  const idp = await startIdp(t)
  const { logger, lines } = capturingLogger('trace')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'confidential'))
  const { callbackUrl } = await login(app, idp)
  const code = callbackUrl.searchParams.get('code') ?? ''
  assert.ok(code.length > 0)
  assert.ok(lines.some((line) => line.includes('/login/redirect')), 'the callback is logged')
  assert.equal(lines.some((line) => line.includes(code)), false, 'but never its code')
})

test('the callback\'s log lines carry its path only, with or without a query', async (t) => {
  const idp = await startIdp(t)
  const { logger, lines } = capturingLogger('info')
  const app = Fastify({ logger })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  for (const url of ['/login/redirect', '/login/redirect?code=secret-code&state=s']) await app.inject({ url })
  const urls = lines.map((line) => JSON.parse(line) as { req?: { url?: string } }).flatMap((line) => line.req?.url ?? [])
  assert.deepEqual(urls, ['/login/redirect', '/login/redirect'])
})
