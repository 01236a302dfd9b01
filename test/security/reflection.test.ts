import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildApp, CookieJar, location, startIdp } from '../helpers/app.js'

const payload = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
const encoded = encodeURIComponent(payload)

function assertNotReflected (response: { headers: Record<string, unknown>, body: string }): void {
  assert.equal(response.body.includes('<script>'), false, 'body')
  assert.equal(JSON.stringify(response.headers).includes('<script>'), false, 'headers')
  const type = response.headers['content-type']
  if (typeof type === 'string') assert.doesNotMatch(type, /html/, 'nothing is rendered as HTML')
}

test('Cognito error and error_description in the callback are never echoed as markup', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const start = await app.inject({ url: '/login' })
  const state = new URL(location(start)).searchParams.get('state') ?? ''
  const jar = new CookieJar().store(start)
  const response = await app.inject({ url: `/login/redirect?error=${encoded}&error_description=${encoded}&state=${state}`, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 400)
  assertNotReflected(response)
  assert.equal(response.json().message, 'The sign-in was not completed: unknown')
})

test('a hostile state and code are not echoed', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const jar = new CookieJar().store(await app.inject({ url: '/login' }))
  const response = await app.inject({ url: `/login/redirect?code=${encoded}&state=${encoded}`, headers: { cookie: jar.header } })
  assert.equal(response.statusCode, 400)
  assertNotReflected(response)
})

test('a hostile returnTo is neither echoed nor followed', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: `/login?returnTo=${encoded}` })
  assert.equal(response.statusCode, 302)
  assertNotReflected(response)
  assert.equal(location(response).includes('script'), false)
})

test('a hostile bearer token is not echoed in the 401 or WWW-Authenticate', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${Buffer.from(payload).toString('base64url')}.${Buffer.from(payload).toString('base64url')}.x` } })
  assert.equal(response.statusCode, 401)
  assertNotReflected(response)
  assert.doesNotMatch(response.headers['www-authenticate'] as string, /<script|alert\(/)
})

test('a hostile path in a guarded browser redirect is percent-encoded', async (t) => {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const response = await app.inject({ url: `/me?q=${encoded}`, headers: { accept: 'text/html' } })
  assert.equal(response.statusCode, 302)
  assert.equal(location(response).includes('<'), false)
  assert.equal(location(response).includes('"'), false)
})
