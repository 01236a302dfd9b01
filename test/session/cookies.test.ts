import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, CookieJar, login, SECURE_REDIRECT_URI, SESSION_SECRET, startIdp } from '../helpers/app.js'

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

function sessionChunks (jar: CookieJar): Array<[string, string]> {
  return [...jar.cookies].filter(([name]) => name.startsWith('cognito_session.')).sort()
}

test('a tampered, truncated, re-ordered or foreign session cookie is no session: 401 or login redirect, never 500', async (t) => {
  const idp = await startIdp(t, {
    users: [{ username: 'carol', password: 'carol-password-1', email: 'carol@example.com', groups: manyGroups }]
  })
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp, { username: 'carol' })
  const chunks = sessionChunks(jar)
  assert.ok(chunks.length >= 2, 'the session spans several cookies')
  const [first, second] = chunks as [[string, string], [string, string]]
  const flip = (value: string): string => value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11)

  const variants: Record<string, string> = {
    tampered: `${first[0]}=${flip(first[1])}; ${second[0]}=${second[1]}`,
    truncated: `${first[0]}=${first[1]}`,
    reordered: `${first[0]}=${second[1]}; ${second[0]}=${first[1]}`,
    'no dot': `${first[0]}=${first[1].replace('.', '')}`,
    'not base64': `${first[0]}=%%%%`,
    empty: `${first[0]}=`
  }
  const otherKeyApp = await buildApp(t, idp, 'public', { sessionSecret: 'another-secret-another-secret-another-secret' })
  for (const [name, cookie] of Object.entries(variants)) {
    const api = await app.inject({ url: '/me', headers: { cookie } })
    assert.equal(api.statusCode, 401, name)
    const browser = await app.inject({ url: '/me', headers: { cookie, accept: 'text/html' } })
    assert.equal(browser.statusCode, 302, name)
  }
  const foreign = await otherKeyApp.inject({ url: '/me', headers: { cookie: jar.header } })
  assert.equal(foreign.statusCode, 401, 'a cookie encrypted with another key')
})

test('chunks of user A combined with chunks of user B never yield an identity', async (t) => {
  const users = [
    { username: 'carol', password: 'carol-password-1', groups: manyGroups },
    { username: 'dave', password: 'dave-password-1', groups: manyGroups }
  ]
  const idp = await startIdp(t, { users })
  const app = await buildApp(t, idp)
  const a = sessionChunks((await login(app, idp, { username: 'carol' })).jar)
  const b = sessionChunks((await login(app, idp, { username: 'dave' })).jar)
  const mixed = `${a[0]?.[0]}=${a[0]?.[1]}; ${b[1]?.[0]}=${b[1]?.[1]}`
  const response = await app.inject({ url: '/me', headers: { cookie: mixed } })
  assert.equal(response.statusCode, 401)
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
