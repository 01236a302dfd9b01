import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import fastifyCookie from '@fastify/cookie'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { APP_ORIGIN, buildApp, login, pluginOptions, startIdp } from '../helpers/app.js'

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
    const idp = await startIdp(t)
    for (const client of idp.clients) client.accessTokenValiditySeconds = 1
    const app = Fastify()
    t.after(async () => { await app.close() })
    if (order === 'before') await app.register(fastifyCookie)
    await app.register(fastifyCognito, pluginOptions(idp, 'public', { clockTolerance: 0 }))
    if (order === 'after') await app.register(fastifyCookie)
    app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request, reply) => {
      reply.setCookie('theme', 'dark', { path: '/' })
      return { username: request.user?.username, theme: request.cookies.theme ?? null }
    })
    await app.ready()
    const { jar } = await login(app, idp)
    const names = (response: { cookies: Array<{ name: string }> }): string[] => response.cookies.map((cookie) => cookie.name).sort()

    // The guard refreshes the expired token: its new session cookies and the app's cookie all reach the browser.
    await sleep(1100)
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
  const session = [...jar.cookies].filter(([name]) => name.startsWith('cognito_session.')).map(([name, value]) => `${name}=${value}`)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: session.join('; ') } })).statusCode, 200, 'control: the cookies as sent')
  const smuggled = await app.inject({ url: '/me', headers: { cookie: `pref=x ${session.join(' ')}` } })
  assert.equal(smuggled.statusCode, 401)
  assert.equal(smuggled.json().code, 'FST_COGNITO_UNAUTHENTICATED')
})
