import { test } from 'node:test'
import assert from 'node:assert/strict'
import { APP_ORIGIN, buildApp, login, startIdp } from '../helpers/app.js'

// Issue 11, finding 8: GET /logout had no cross-site check, so any site could sign a visitor out (a link, an
// <img>, a top-level navigation), revoking the refresh token. GET /logout now refuses what POST /logout refuses:
// `Sec-Fetch-Site` other than same-origin / none, and a foreign `Origin`. Same-origin links and typed URLs work.

const crossSite: Record<string, Record<string, string>> = {
  'Sec-Fetch-Site: cross-site': { 'sec-fetch-site': 'cross-site' },
  'Sec-Fetch-Site: cross-site, a top-level navigation': { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' },
  'Sec-Fetch-Site: same-site (a sibling subdomain)': { 'sec-fetch-site': 'same-site' },
  'a foreign Origin': { origin: 'https://evil.example' },
  'Origin: null (a sandboxed frame, a redirect chain)': { origin: 'null' },
  'an Origin that only starts like the app\'s': { origin: `${APP_ORIGIN}.evil.example` },
  'a foreign Origin with Sec-Fetch-Site: same-origin': { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }
}

for (const [what, headers] of Object.entries(crossSite)) {
  test(`GET /logout with ${what}: 403, the session goes on and nothing is revoked`, async (t) => {
    const idp = await startIdp(t)
    const app = await buildApp(t, idp)
    const { jar } = await login(app, idp)
    const response = await app.inject({ url: '/logout', headers: { ...headers, cookie: jar.header } })
    assert.equal(response.statusCode, 403)
    assert.equal(response.json().code, 'FST_COGNITO_CROSS_SITE_REQUEST')
    assert.equal(response.headers['set-cookie'], undefined, 'no cookie is cleared')
    assert.equal(idp.requests.revoke, 0, 'the refresh token is not revoked')
    assert.equal((await app.inject({ url: '/me', headers: { cookie: jar.header } })).statusCode, 200, 'the session still works')
    const refresh = await app.inject({ method: 'POST', url: '/refresh', headers: { cookie: jar.header } })
    assert.equal(refresh.statusCode, 200, 'and can still be refreshed')
  })
}

const sameOrigin: Record<string, Record<string, string>> = {
  'Sec-Fetch-Site: same-origin (a link of the app)': { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
  'Sec-Fetch-Site: none (a typed URL, a bookmark)': { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' },
  'the app\'s own Origin': { origin: APP_ORIGIN, 'sec-fetch-site': 'same-origin' },
  'no such headers (not a browser, or an old one)': {}
}

for (const [what, headers] of Object.entries(sameOrigin)) {
  test(`GET /logout with ${what}: 302, signed out`, async (t) => {
    const idp = await startIdp(t)
    const app = await buildApp(t, idp)
    const { jar } = await login(app, idp)
    const copy = jar.clone()
    const response = await app.inject({ url: '/logout', headers: { ...headers, cookie: jar.header } })
    assert.equal(response.statusCode, 302)
    assert.match(response.headers.location as string, new RegExp(`^${idp.domain}/logout\\?`))
    jar.store(response)
    assert.equal([...jar.cookies.keys()].filter((name) => name.startsWith('cognito_session.')).length, 0, 'the session cookies are cleared')
    assert.equal(idp.requests.revoke, 1, 'the refresh token is revoked')
    assert.equal((await app.inject({ url: '/me', headers: { cookie: copy.header } })).statusCode, 401, 'a copy of the old cookies is refused')
  })
}
