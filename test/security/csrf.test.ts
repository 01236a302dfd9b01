import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import { APP_ORIGIN, buildApp, login, startIdp, type CookieJar } from '../helpers/app.js'

// State-changing routes refuse requests a browser sends on behalf of another site (RFC 9700 4.11, OWASP CSRF).

async function signedIn (t: TestContext): Promise<{ app: FastifyInstance, idp: LocalCognito, jar: CookieJar }> {
  const idp = await startIdp(t)
  const app = await buildApp(t, idp)
  const { jar } = await login(app, idp)
  return { app, idp, jar }
}

const crossSite: Record<string, Record<string, string>> = {
  'an Origin of another site': { origin: 'https://evil.example' },
  'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
  'Sec-Fetch-Site: same-site (a sibling subdomain)': { 'sec-fetch-site': 'same-site' },
  'Origin: null (sandboxed frame, data: URL)': { origin: 'null' },
  'the app origin on another port': { origin: 'http://localhost:3001' }
}

for (const route of ['/refresh', '/logout']) {
  for (const [name, headers] of Object.entries(crossSite)) {
    test(`POST ${route} with ${name} is refused with 403`, async (t) => {
      const { app, idp, jar } = await signedIn(t)
      const response = await app.inject({ method: 'POST', url: route, headers: { cookie: jar.header, ...headers } })
      assert.equal(response.statusCode, 403)
      assert.equal(response.json().code, 'FST_COGNITO_CROSS_SITE_REQUEST')
      assert.equal(response.headers['set-cookie'], undefined, 'the session is untouched')
      assert.equal(idp.requests.tokenRefresh + idp.requests.revoke, 0, 'nothing reached Cognito')
    })
  }
}

test('POST /refresh and /logout from the app itself pass', async (t) => {
  const { app, jar } = await signedIn(t)
  const headers = { cookie: jar.header, origin: APP_ORIGIN, 'sec-fetch-site': 'same-origin' }
  assert.equal((await app.inject({ method: 'POST', url: '/refresh', headers })).statusCode, 200)
  assert.equal((await app.inject({ method: 'POST', url: '/logout', headers })).statusCode, 302)
})
