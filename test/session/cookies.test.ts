import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, login, SECURE_REDIRECT_URI, SESSION_SECRET, startIdp } from '../helpers/app.js'

const manyGroups = Array.from({ length: 40 }, (_, i) => `department-${String(i).padStart(2, '0')}-readers-and-writers`)

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

test('no cookie exceeds 4096 bytes with 40 groups and a 1.8 KB refresh token, and the session works', async (t) => {
  const idp = await startIdp(t, {
    users: [{
      username: 'carol',
      password: 'carol-password-1',
      email: 'carol.with.a.rather.long.address@subsidiary.example.com',
      groups: manyGroups,
      attributes: { 'custom:tenant': 'acme-corporation-emea', 'custom:roles': 'reader,writer,approver' }
    }]
  })
  const app = await buildApp(t, idp, 'confidential', { redirectUri: SECURE_REDIRECT_URI })
  const { callback, jar } = await login(app, idp, { username: 'carol' })
  const setCookies = [callback.headers['set-cookie']].flat().filter((c): c is string => typeof c === 'string')
  const total = setCookies.reduce((sum, cookie) => sum + cookie.length, 0)
  assert.ok(total > 4096, `the tokens are realistic: ${total} bytes of cookies in all`)
  for (const cookie of setCookies) assert.ok(Buffer.byteLength(cookie) <= 4096, `${cookie.slice(0, 30)}... is ${Buffer.byteLength(cookie)} bytes`)
  const me = await app.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(me.statusCode, 200)
  assert.equal(me.json().user.groups.length, 40)
  const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  assert.equal(refresh.statusCode, 200)
  for (const cookie of [refresh.headers['set-cookie']].flat()) assert.ok(Buffer.byteLength(String(cookie)) <= 4096)
})

test('sessionSecret rotation: a session made with the old secret still works, new sessions use the new one', async (t) => {
  const idp = await startIdp(t)
  const oldApp = await buildApp(t, idp)
  const { jar } = await login(oldApp, idp)
  const rotated = await buildApp(t, idp, 'public', { sessionSecret: ['the-new-secret-the-new-secret-the-new-secret', SESSION_SECRET] })
  assert.equal((await rotated.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
  const refreshed = await rotated.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
  jar.store(refreshed)
  assert.equal((await oldApp.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401, 'the new cookie is under the new key')
  assert.equal((await rotated.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200)
})
