import { test } from 'node:test'
import assert from 'node:assert/strict'
import fastifyCookie from '@fastify/cookie'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { readCookie, readCookieChunks, readNumberedCookies, serializeCookie, setCookie } from '../../lib/session/cookies.js'
import { APP_ORIGIN, buildApp, login, pluginOptions, SECURE_REDIRECT_URI, sessionChunks, startIdp } from '../helpers/app.js'
import { manualClock } from '../helpers/clock.js'

// The plugin's own Cookie / Set-Cookie handling: first the functions, then what an app sees over HTTP.

test('readCookie finds a cookie by exact name, at the start of a pair only', () => {
  const header = 'theme=dark; __Host-app_session.0=abc.def; __Host-app_session.1=ghi'
  assert.equal(readCookie(header, '__Host-app_session.0='), 'abc.def')
  assert.equal(readCookie(header, '__Host-app_session.1='), 'ghi')
  assert.equal(readCookie(header, '__Host-app_session.2='), undefined)
  assert.equal(readCookie(header, 'theme='), 'dark')
  assert.equal(readCookie(header, 'heme='), undefined, 'a suffix of another name is not the name')
  assert.equal(readCookie(undefined, 'theme='), undefined)
  assert.equal(readCookie('', 'theme='), undefined)
})

test('readCookie: a name inside another cookie\'s value is not a cookie (no smuggling past __Host-)', () => {
  // A sibling domain can set `a` for the parent domain; its value must not be read as the __Host- cookie.
  assert.equal(readCookie('a=x __Host-s.0=forged', '__Host-s.0='), undefined)
  assert.equal(readCookie('a=x__Host-s.0=forged', '__Host-s.0='), undefined)
  assert.equal(readCookie('a=x __Host-s.0=forged; __Host-s.0=real', '__Host-s.0='), 'real')
})

test('readCookie takes the first of duplicate names, trims spaces, keeps empty values', () => {
  assert.equal(readCookie('s=first; s=second', 's='), 'first')
  assert.equal(readCookie('  s=value  ;t=1', 's='), 'value')
  assert.equal(readCookie('t=1;s=value', 's='), 'value', 'no space after the semicolon')
  assert.equal(readCookie('t=1;\ts=value', 's='), 'value')
  assert.equal(readCookie('s=; t=1', 's='), '')
})

test('readCookieChunks: chunks in order whatever their order in the header, up to the first missing or empty one', () => {
  assert.deepEqual(readCookieChunks('a=1; s.1=B; s.0=A; b=2', 's.', 8), ['A', 'B'])
  assert.deepEqual(readCookieChunks('s.0=A; s.2=C', 's.', 8), ['A'], 'a gap ends the session')
  assert.deepEqual(readCookieChunks('s.1=B', 's.', 8), [], 'no first chunk, no session')
  assert.deepEqual(readCookieChunks('s.0=A; s.1=; s.2=C', 's.', 8), ['A'], 'an empty chunk ends it')
  assert.deepEqual(readCookieChunks('s.0=A; s.0=Z; s.1=B', 's.', 8), ['A', 'B'], 'the first of duplicates counts')
  assert.deepEqual(readCookieChunks('s.0=A; s.1=B; s.2=C', 's.', 2), ['A', 'B'], 'at most max')
  assert.deepEqual(readCookieChunks('s.0x=A; s.=B; s.00=C; xs.0=D', 's.', 8), [], 'other names that start alike are not chunks')
  assert.deepEqual(readCookieChunks('p=x s.0=A; s.1=B', 's.', 8), [], 'a chunk inside another cookie\'s value is not a chunk')
  assert.deepEqual(readCookieChunks(undefined, 's.', 8), [])
})

test('serializeCookie: HttpOnly, SameSite=Lax, Path=/, Secure when asked; Max-Age=0 with a past Expires deletes', () => {
  assert.equal(serializeCookie('n', 'v', { maxAge: 60, secure: true }), 'n=v; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax')
  assert.equal(serializeCookie('n', 'v', { maxAge: 60, secure: false }), 'n=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax')
  assert.equal(serializeCookie('n', '', { maxAge: 0, secure: true }), 'n=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; Secure; SameSite=Lax')
})

test('setCookie over HTTP: one Set-Cookie per name (the last wins), beside the app\'s own @fastify/cookie cookies', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCookie)
  app.get('/', async (_request, reply) => {
    reply.setCookie('app', 'own', { path: '/' })
    setCookie(reply, 'plugin', 'first', { maxAge: 60, secure: false })
    setCookie(reply, 'other', 'kept', { maxAge: 60, secure: false })
    setCookie(reply, 'plugin', '', { maxAge: 0, secure: false })
    reply.header('set-cookie', 'raw=1')
    return { ok: true }
  })
  const response = await app.inject({ url: '/' })
  const cookies = response.cookies as Array<{ name: string, value: string, maxAge?: number }>
  assert.deepEqual(cookies.map((cookie) => cookie.name).sort(), ['app', 'other', 'plugin', 'raw'])
  const plugin = cookies.find((cookie) => cookie.name === 'plugin')
  assert.equal(plugin?.value, '')
  assert.equal(plugin?.maxAge, 0)
})

test('readNumberedCookies: every numbered cookie by number, also past a gap, in one walk', () => {
  assert.deepEqual([...readNumberedCookies('s.0=A; s.2=C; s.9=J', 's.', 10)], ['A', undefined, 'C', undefined, undefined, undefined, undefined, undefined, undefined, 'J'])
  assert.deepEqual([...readNumberedCookies('s.1=B; s.1=Z', 's.', 8)], [undefined, 'B'], 'the first of duplicates')
  assert.deepEqual(readNumberedCookies('s.0=; s.3=D', 's.', 3), [''], 'empty values are kept; numbers at or past max are not chunks')
  assert.deepEqual(readNumberedCookies('x=1; s.a=2; s.-1=3', 's.', 8), [])
  assert.deepEqual(readNumberedCookies(undefined, 's.', 8), [])
  assert.ok(Object.isFrozen(readNumberedCookies('x=1', 's.', 8)), 'the shared empty answer cannot be changed')
})

test('serializeCookie: Max-Age in whole seconds', () => {
  assert.equal(serializeCookie('n', 'v', { maxAge: 59.9, secure: false }), 'n=v; Max-Age=59; Path=/; HttpOnly; SameSite=Lax')
  assert.equal(serializeCookie('n', 'v', { maxAge: -1, secure: false }), 'n=v; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax', 'a negative age deletes')
})

test('setCookie: a single Set-Cookie header stays a string; a second name makes a list', async (t) => {
  const app = Fastify()
  t.after(async () => { await app.close() })
  app.get('/one', async (_request, reply) => {
    setCookie(reply, 'a', '1', { maxAge: 60, secure: true })
    return { header: reply.getHeader('set-cookie') }
  })
  app.get('/replace', async (_request, reply) => {
    reply.header('set-cookie', 'a=old; Path=/')
    setCookie(reply, 'a', 'new', { maxAge: 60, secure: false })
    setCookie(reply, 'b', '2', { maxAge: 60, secure: false })
    return { header: reply.getHeader('set-cookie') }
  })
  assert.deepEqual((await app.inject({ url: '/one' })).json(), { header: 'a=1; Max-Age=60; Path=/; HttpOnly; Secure; SameSite=Lax' })
  assert.deepEqual((await app.inject({ url: '/replace' })).json(), {
    header: ['a=new; Max-Age=60; Path=/; HttpOnly; SameSite=Lax', 'b=2; Max-Age=60; Path=/; HttpOnly; SameSite=Lax']
  })
})

test('session cookies: HttpOnly, SameSite=Lax, Path=/; with an https redirectUri also Secure and __Host-', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp, 'confidential', { redirectUri: SECURE_REDIRECT_URI })
  const { callback } = await login(app, idp)
  const cookies = [callback.headers['set-cookie']].flat().filter((c): c is string => typeof c === 'string' && c.includes('_session.'))
  assert.ok(cookies.length > 0)
  for (const cookie of cookies) {
    assert.match(cookie, /^__Host-cognito_session\.\d=/)
    assert.match(cookie, /; HttpOnly/)
    assert.match(cookie, /; Secure/)
    assert.match(cookie, /; SameSite=Lax/)
    assert.match(cookie, /; Path=\//)
    assert.doesNotMatch(cookie, /; Domain=/)
  }
})

test('the plugin adds no cookie parsing to the app: no @fastify/cookie, no request.cookies, and sessions work', async (t) => {
  const idp = await startIdp(t)
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/plain', async (request) => ({ cookies: (request as { cookies?: unknown }).cookies ?? null }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ username: request.user?.username }))
  await app.ready()
  assert.equal(app.hasPlugin('@fastify/cookie'), false)
  const { jar } = await login(app, idp)
  assert.deepEqual((await app.inject({ url: '/plain', headers: { cookie: jar.header } })).json(), { cookies: null })
  assert.deepEqual((await app.inject({ url: '/me', headers: { cookie: jar.header } })).json(), { username: 'alice' })
})

for (const order of ['before', 'after'] as const) {
  test(`an app with its own @fastify/cookie (registered ${order} the plugin): its cookies go out beside the plugin's`, async (t) => {
    const clock = manualClock()
    const idp = await startIdp(t, { now: clock.now })
    for (const client of idp.clients) client.accessTokenValiditySeconds = 1
    const app = Fastify()
    t.after(async () => { await app.close() })
    if (order === 'before') await app.register(fastifyCookie)
    await app.register(fastifyCognito, pluginOptions(idp, 'public', { clockTolerance: 0, now: clock.now }))
    if (order === 'after') await app.register(fastifyCookie)
    app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request, reply) => {
      reply.setCookie('theme', 'dark', { path: '/' })
      return { username: request.user?.username, theme: request.cookies.theme ?? null }
    })
    await app.ready()
    const { jar } = await login(app, idp)
    const names = (response: { cookies: Array<{ name: string }> }): string[] => response.cookies.map((cookie) => cookie.name).sort()

    // The guard refreshes the expired token: its new session cookies and the app's cookie all reach the browser.
    clock.advance(1.1)
    for (const client of idp.clients) client.accessTokenValiditySeconds = 3600
    const refreshed = await app.inject({ url: '/me', headers: { cookie: `theme=light; ${jar.header}` } })
    assert.equal(refreshed.statusCode, 200)
    assert.deepEqual(refreshed.json(), { username: 'alice', theme: 'light' }, 'the app reads its own cookie')
    assert.equal(idp.requests.tokenRefresh, 1)
    assert.ok(names(refreshed).includes('theme'))
    assert.ok(names(refreshed).some((name) => name.startsWith('cognito_session.')), 'the refreshed session is set')
    jar.store(refreshed)

    const again = await app.inject({ url: '/me', headers: { cookie: jar.header } })
    assert.equal(again.statusCode, 200)
    assert.deepEqual(names(again), ['theme'], 'an unchanged session is not written again')

    const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header, origin: APP_ORIGIN } })
    assert.equal(logout.statusCode, 302)
    jar.store(logout)
    assert.deepEqual([...jar.cookies.keys()].filter((name) => name.startsWith('cognito')), [], 'logout cleared every plugin cookie')
  })
}

test('a session cookie name inside another cookie\'s value is no session (a sibling domain cannot smuggle one)', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const session = sessionChunks(jar).map(([name, value]) => `${name}=${value}`)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: session.join('; ') } })).statusCode, 200, 'control: the cookies as sent')
  const smuggled = await app.inject({ url: '/me', headers: { cookie: `pref=x ${session.join(' ')}` } })
  assert.equal(smuggled.statusCode, 401)
  assert.equal(smuggled.json().code, 'FST_COGNITO_UNAUTHENTICATED')
})
