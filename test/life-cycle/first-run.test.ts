import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { buildApp, CookieJar, location, login, pluginOptions, signInAtIdp, startIdp } from '../helpers/app.js'
import { forwardTo, startFakeCognito, type ExchangeRecord } from '../helpers/fake-cognito.js'

// The traps a new user falls into first (issue: first run without traps), driven over HTTP against the local IdP.

test('/login reached on another host name than the redirect URI goes there first, keeping path and query', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp) // redirect URI http://localhost:3000/login/redirect
  const elsewhere = await app.inject({ url: '/login?returnTo=%2Fprivate&lang=fr', headers: { host: '127.0.0.1:3000' } })
  assert.equal(elsewhere.statusCode, 302)
  assert.equal(location(elsewhere), 'http://localhost:3000/login?returnTo=%2Fprivate&lang=fr&cognito_host_redirect=1')
  assert.equal(elsewhere.headers['set-cookie'], undefined, 'no login cookie on the wrong host')
  // Host names are compared without regard to case or port (cookies are not kept apart by port), and not the scheme.
  for (const host of ['localhost:3000', 'LOCALHOST:3000', 'localhost', 'localhost:8443']) {
    const there = await app.inject({ url: '/login', headers: { host } })
    assert.equal(new URL(location(there)).origin, idp.domain, host)
  }
  // A forged Host header cannot pick the target: it is always the configured origin.
  const forged = await app.inject({ url: '/login', headers: { host: 'evil.example' } })
  assert.equal(new URL(location(forged)).origin, 'http://localhost:3000')
  // A proxy that rewrites the Host header would bring the redirect back under the same name: no second redirect.
  const again = await app.inject({ url: '/login?cognito_host_redirect=1', headers: { host: 'internal-app:3000' } })
  assert.equal(new URL(location(again)).origin, idp.domain, 'no redirect loop')
})

test('a sign-in started on the wrong host completes after the redirect, as a browser follows it', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const jar = new CookieJar()
  const first = await app.inject({ url: '/login', headers: { host: '127.0.0.1:3000' } })
  const target = new URL(location(first))
  const start = await app.inject({ url: target.pathname + target.search, headers: { host: target.host } })
  jar.store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), 'alice', 'alice-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { host: callbackUrl.host, cookie: jar.header } })
  assert.equal(callback.statusCode, 302)
  jar.store(callback)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
})

test('a callback without a login in progress names the likely causes and logs one warn line with what it sees', async (t) => {
  const idp = await startIdp(t)
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } } } })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  await app.ready()

  const noCookie = await app.inject({ url: '/login/redirect?code=c&state=s', headers: { host: 'localhost:3000' } })
  assert.equal(noCookie.statusCode, 400)
  assert.equal(noCookie.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')
  const message = noCookie.json().message as string
  for (const cause of [/another host name/, /blocks cookies/, /10 minutes/, /old tab/]) assert.match(message, cause)

  const otherHost = await app.inject({ url: '/login/redirect?code=c&state=s', headers: { host: '127.0.0.1:3000' } })
  assert.equal(otherHost.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')

  const foreign = await app.inject({ url: '/login/redirect?code=c&state=s', headers: { host: 'localhost:3000', cookie: 'cognito_login=bm90LWEtbG9naW4.AAAA' } })
  assert.equal(foreign.json().code, 'FST_COGNITO_LOGIN_STATE_MISSING')

  const warnings = lines.filter((line) => line.msg === 'fastify-cognito: sign-in callback without a login in progress')
  assert.equal(warnings.length, 3, 'one warn line per refused callback')
  assert.match(String(warnings[0]?.reason), /no login cookie/)
  assert.match(String(warnings[1]?.reason), /host "127\.0\.0\.1" while the redirect URI names "localhost"/)
  assert.match(String(warnings[2]?.reason), /holds no valid login/)
})

test('expected refusals log one short line without a stack; unexpected errors keep their stack', async (t) => {
  const idp = await startIdp(t)
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => { lines.push(line) } } } })
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { domain: 'http://127.0.0.1:9' }))
  app.get('/api', { preHandler: app.cognito.requireAuth() }, async () => ({ ok: true }))
  await app.ready()

  const refused = await app.inject({ url: '/api' })
  assert.equal(refused.statusCode, 401)
  const refusal = lines.filter((line) => line.includes('FST_COGNITO_UNAUTHENTICATED'))
  assert.equal(refusal.length, 1)
  const logged = JSON.parse(refusal[0] as string) as { level: number, err: { stack: string } }
  assert.equal(logged.level, 30, 'info, as Fastify logs 4xx')
  assert.equal(logged.err.stack.includes('\n'), false, 'no stack frames')
  assert.ok((refusal[0] as string).length < 700, `${(refusal[0] as string).length} bytes`)

  // A fault reaching Cognito (nothing listens on port 9) is not a refusal: its stack stays for the operator.
  const { jar } = await login(await buildApp(t, idp), idp)
  lines.length = 0
  const fault = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(fault.statusCode, 503)
  const error = lines.map((line) => JSON.parse(line) as { err?: { stack?: string, code?: string } }).find((line) => line.err?.code === 'FST_COGNITO_IDP_UNAVAILABLE')
  assert.ok(error?.err?.stack?.includes('\n    at '), 'the stack is kept')
})

test('userInfo answering 401 (token revoked, signed out everywhere) ends the session instead of a 502', async (t) => {
  const idp = await startIdp(t)
  const exchanges: ExchangeRecord[] = []
  const fake = await startFakeCognito(t, {
    token: forwardTo(idp.domain, '/oauth2/token', exchanges),
    revoke: forwardTo(idp.domain, '/oauth2/revoke', exchanges),
    userInfo: async (_request, reply) => await reply.code(401)
      .header('www-authenticate', 'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."')
      .send({ error: 'invalid_token' })
  })
  // Signed in while userInfo worked (the real IdP), refreshed while it answers 401 (the fake domain).
  const { jar } = await login(await buildApp(t, idp, 'public', { userInfo: true }), idp)
  const app = await buildApp(t, idp, 'public', { userInfo: true, domain: fake.domain })
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 401)
  assert.equal(refresh.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.ok(refresh.cookies.some((cookie) => cookie.name === 'cognito_session.0' && cookie.maxAge === 0), 'the session cookies are cleared')
  assert.equal(fake.calls.userInfo, 1)
  // And at sign-in: no session is created.
  const start = await app.inject({ url: '/login' })
  const signInJar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, new URL(new URL(location(start)).pathname + new URL(location(start)).search, idp.domain).href, 'alice', 'alice-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: signInJar.header } })
  assert.equal(callback.statusCode, 401)
  assert.equal(callback.json().code, 'FST_COGNITO_SESSION_EXPIRED')
  assert.equal(callback.cookies.some((cookie) => cookie.name.startsWith('cognito_session.') && cookie.value !== ''), false)
})
