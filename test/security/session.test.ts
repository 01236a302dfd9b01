import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import { buildApp, flipCharacter, login, MANY_GROUPS, sessionChunks, startIdp, type CookieJar } from '../helpers/app.js'

// OWASP session management: a session cookie that is not exactly what the plugin wrote is no session (401 for API
// calls, a login redirect for browser navigations), never a 500 and never someone else's identity.

type Chunk = [name: string, value: string]

async function signedInWithChunks (t: TestContext): Promise<{ app: FastifyInstance, idp: LocalCognito, jar: CookieJar, chunks: [Chunk, Chunk, ...Chunk[]] }> {
  const idp = await startIdp(t, {
    users: [
      { username: 'carol', password: 'carol-password-1', email: 'carol@example.com', groups: MANY_GROUPS },
      { username: 'dave', password: 'dave-password-1', email: 'dave@example.com', groups: MANY_GROUPS }
    ]
  })
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp, { username: 'carol' })
  const chunks = sessionChunks(jar)
  const [first, second, ...rest] = chunks
  assert.ok(first !== undefined && second !== undefined, 'the session spans several cookies')
  return { app, idp, jar, chunks: [first, second, ...rest] }
}

async function assertNoSession (app: FastifyInstance, cookie: string): Promise<void> {
  const api = await app.inject({ url: '/me', headers: { cookie } })
  assert.equal(api.statusCode, 401)
  assert.equal(api.json().code, 'FST_COGNITO_UNAUTHENTICATED')
  const browser = await app.inject({ url: '/me', headers: { cookie, accept: 'text/html' } })
  assert.equal(browser.statusCode, 302)
  assert.match(browser.headers.location as string, /^\/login\?returnTo=/)
}

test('a session cookie with one character changed', async (t) => {
  const { app, chunks: [[n0, v0], [n1, v1]] } = await signedInWithChunks(t)
  await assertNoSession(app, `${n0}=${flipCharacter(v0)}; ${n1}=${v1}`)
  await assertNoSession(app, `${n0}=${v0}; ${n1}=${flipCharacter(v1, v1.length - 5)}`)
})

test('a truncated session (a chunk missing or cut short)', async (t) => {
  const { app, chunks: [[n0, v0], [n1, v1]] } = await signedInWithChunks(t)
  await assertNoSession(app, `${n0}=${v0}`)
  await assertNoSession(app, `${n1}=${v1}`)
  await assertNoSession(app, `${n0}=${v0}; ${n1}=${v1.slice(0, -10)}`)
})

test('re-ordered session chunks', async (t) => {
  const { app, chunks: [[n0, v0], [n1, v1]] } = await signedInWithChunks(t)
  await assertNoSession(app, `${n0}=${v1}; ${n1}=${v0}`)
})

test('malformed session cookies (no nonce, not base64, empty)', async (t) => {
  const { app, chunks: [[n0, v0]] } = await signedInWithChunks(t)
  await assertNoSession(app, `${n0}=${v0.replace('.', '')}`)
  await assertNoSession(app, `${n0}=%%%%`)
  await assertNoSession(app, `${n0}=`)
  await assertNoSession(app, `${n0}=a.b.c.d`)
})

test('a session cookie encrypted with another key', async (t) => {
  const { idp, jar } = await signedInWithChunks(t)
  const otherApp = await buildApp(t, idp, 'public', { sessionSecret: 'another-secret-another-secret-another-secret' })
  await assertNoSession(otherApp, jar.header)
})

test('chunks of user A combined with chunks of user B never yield an identity', async (t) => {
  const { app, idp, chunks: a } = await signedInWithChunks(t)
  const b = sessionChunks((await login(app, idp, { username: 'dave' })).jar)
  await assertNoSession(app, `${a[0][0]}=${a[0][1]}; ${b[1]?.[0]}=${b[1]?.[1]}`)
  await assertNoSession(app, `${b[0]?.[0]}=${b[0]?.[1]}; ${a[1][0]}=${a[1][1]}`)
})

test('login always starts a new session (no fixation): a planted session is replaced', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  // The attacker's own session cookie, planted in the victim's browser before the victim signs in.
  const { jar: planted } = await login(app, idp, { username: 'bob' })
  const before = sessionChunks(planted).map(([, value]) => value).join('')
  const { jar } = await login(app, idp, { username: 'alice', jar: planted })
  assert.notEqual(sessionChunks(jar).map(([, value]) => value).join(''), before)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).json().user.username, 'alice')
})

test('logout leaves no cookie that authenticates', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie: jar.header } })
  for (const cookie of logout.cookies as Array<{ name: string, value: string, maxAge?: number }>) {
    assert.equal(cookie.value, '', `${cookie.name} is emptied`)
    assert.equal(cookie.maxAge, 0, `${cookie.name} expires now`)
  }
  jar.store(logout)
  assert.equal(jar.cookies.size, 0)
  assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 401)
})
