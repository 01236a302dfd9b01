import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import Fastify from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import { CLIENT_IDS, CookieJar, login, pluginOptions, REDIRECT_URI, LOGOUT_URI } from '../helpers/app.js'

// Random cookies, headers, query strings and token-shaped strings against every route: never a 500, never an
// authenticated answer. 1,000 runs per property.
const RUNS = 1000
let idp: LocalCognito
let app: FastifyInstance
let sessionCookies: Array<[string, string]>
let validToken: string

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 300 })
const base64url = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')), maxLength: 400 })
const jsonPart = fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url'))
const tokenShaped = fc.oneof(
  fc.tuple(jsonPart, jsonPart, base64url).map((parts) => parts.join('.')),
  fc.tuple(base64url, base64url, base64url).map((parts) => parts.join('.')),
  fc.tuple(fc.nat(200), fc.nat(400), printable).map(([at, cut, junk]) => validToken.slice(0, at) + junk + validToken.slice(at + cut)),
  printable
).filter((token) => token !== validToken) // mutations may shrink back to the untouched token
const cookieValue = fc.oneof(
  base64url,
  fc.tuple(base64url, base64url).map(([a, b]) => `${a}.${b}`),
  fc.tuple(fc.nat(3000), printable).map(([at, junk]) => {
    const value = sessionCookies[0]?.[1] ?? ''
    return encodeURIComponent(value.slice(0, at) + junk + value.slice(at + junk.length))
  })
  // A whole session can fit in one cookie: a mutation that leaves it untouched is the real session, not an attack.
).filter((value) => value !== encodeURIComponent(sessionCookies[0]?.[1] ?? ''))
const cookieHeader = fc.array(fc.tuple(fc.constantFrom('cognito_session.0', 'cognito_session.1', 'cognito_session.2', 'cognito_login', 'other'), cookieValue), { maxLength: 4 })
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; '))
const queryString = fc.dictionary(fc.constantFrom('code', 'state', 'error', 'error_description', 'returnTo', 'x'), fc.oneof(printable, fc.array(printable, { maxLength: 3 })), { maxKeys: 5 })
  .map((query) => new URLSearchParams(Object.entries(query).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((item): [string, string] => [key, item]))).toString())

before(async () => {
  idp = await startLocalCognito({
    users: [{ username: 'alice', password: 'alice-password-1', groups: Array.from({ length: 30 }, (_, i) => `group-with-a-long-name-${i}`) }],
    clients: [{ clientId: CLIENT_IDS.public, callbackUrls: [REDIRECT_URI], logoutUrls: [LOGOUT_URI] }]
  })
  app = Fastify()
  await app.register(fastifyCognito, pluginOptions(idp, 'public'))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  await app.ready()
  const { jar } = await login(app, idp, { jar: new CookieJar() })
  sessionCookies = [...jar.cookies]
  validToken = await idp.mintAccessToken('alice', CLIENT_IDS.public)
})

after(async () => {
  await app.close()
  await idp.close()
})

test('property: random session cookies never authenticate and never cause a 500', async () => {
  await fc.assert(fc.asyncProperty(cookieHeader, fc.boolean(), async (cookie, browser) => {
    const response = await app.inject({ url: '/me', headers: { cookie, ...(browser ? { accept: 'text/html' } : {}) } })
    assert.ok(browser ? response.statusCode === 302 : response.statusCode === 401, `status ${response.statusCode}`)
  }), { numRuns: RUNS })
})

test('property: random token-shaped bearer tokens never authenticate and never cause a 500', async () => {
  await fc.assert(fc.asyncProperty(tokenShaped, async (token) => {
    const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
    assert.equal(response.statusCode, 401)
  }), { numRuns: RUNS })
})

test('property: random Authorization headers never authenticate and never cause a 500', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(printable, printable.map((value) => `Bearer ${value}`), tokenShaped.map((value) => `bearer  ${value}`)), async (authorization) => {
    const response = await app.inject({ url: '/me', headers: { authorization } })
    assert.equal(response.statusCode, 401)
  }), { numRuns: RUNS })
})

test('property: random callbacks never create a session and never cause a 500', async () => {
  await fc.assert(fc.asyncProperty(queryString, cookieHeader, async (query, cookie) => {
    const response = await app.inject({ url: `/login/redirect?${query}`, headers: { cookie } })
    assert.ok([400, 403].includes(response.statusCode), `status ${response.statusCode}`)
    assert.equal(response.cookies.some((c: { name: string, value: string }) => c.name.startsWith('cognito_session') && c.value !== ''), false)
  }), { numRuns: RUNS })
})

test('property: /login with random query strings always redirects to the IdP, never off-site', async () => {
  await fc.assert(fc.asyncProperty(queryString, cookieHeader, async (query, cookie) => {
    const response = await app.inject({ url: `/login?${query}`, headers: { cookie } })
    assert.equal(response.statusCode, 302)
    assert.ok((response.headers.location as string).startsWith(`${idp.domain}/oauth2/authorize?`))
  }), { numRuns: RUNS })
})

test('property: POST /refresh and /logout with random cookies and origins never cause a 500 or a refresh', async () => {
  const before = idp.requests.tokenRefresh
  await fc.assert(fc.asyncProperty(fc.constantFrom('/refresh', '/logout'), cookieHeader, fc.option(printable), async (url, cookie, origin) => {
    const response = await app.inject({ method: 'POST', url, headers: { cookie, ...(origin === null ? {} : { origin }) } })
    assert.ok([302, 401, 403].includes(response.statusCode), `status ${response.statusCode}`)
  }), { numRuns: RUNS })
  assert.equal(idp.requests.tokenRefresh, before)
})
