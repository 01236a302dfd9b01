import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import { CALLBACK, PUBLIC_CLIENT, authorizeUrl, get, locationOf, login, signIn, token, userInfo } from './local-cognito-helpers.js'

const SIGNED_OUT = 'http://localhost:3000/'
let cognito: LocalCognito

before(async () => { cognito = await startLocalCognito() })
after(async () => { await cognito.close() })

function logoutUrl (params: Record<string, string>): string {
  return `${cognito.domain}/logout?${new URLSearchParams(params).toString()}`
}

function clearsCookie (response: Response): boolean {
  return response.headers.getSetCookie().some(value => /^cognito=;/.test(value) && /Expires=Thu, 01 Jan 1970|Max-Age=0/i.test(value))
}

test('logout with an allowed logout_uri clears the managed-login session and redirects there', async () => {
  const { cookie } = await signIn(cognito)
  const before = cognito.requests.logout
  const response = await get(logoutUrl({ client_id: PUBLIC_CLIENT, logout_uri: SIGNED_OUT }), { cookie })
  assert.equal(response.status, 302)
  assert.equal(response.headers.get('location'), SIGNED_OUT)
  assert.ok(clearsCookie(response))
  assert.equal(cognito.requests.logout, before + 1)
  // Even a browser that kept the old cookie has to sign in again.
  assert.equal(locationOf(await get(authorizeUrl(cognito), { cookie })).pathname, '/login')
})

test('logout with redirect_uri and response_type leads to the sign-in page', async () => {
  const { cookie } = await signIn(cognito)
  const params = { client_id: PUBLIC_CLIENT, redirect_uri: CALLBACK, response_type: 'code', state: 'again' }
  const response = await get(logoutUrl(params), { cookie })
  assert.equal(response.status, 302)
  const location = locationOf(response)
  assert.equal(`${location.origin}${location.pathname}`, `${cognito.domain}/login`)
  assert.deepEqual(Object.fromEntries(location.searchParams), params)
  assert.ok(clearsCookie(response))
})

test('a bad logout request is an error page and keeps the session', async () => {
  const { cookie } = await signIn(cognito)
  const bad: Array<Record<string, string>> = [
    { client_id: PUBLIC_CLIENT, logout_uri: 'http://evil.example/' },
    { client_id: PUBLIC_CLIENT, logout_uri: 'http://localhost:3000' },
    { logout_uri: SIGNED_OUT },
    { client_id: 'unknown-client', logout_uri: SIGNED_OUT },
    { client_id: PUBLIC_CLIENT },
    { client_id: PUBLIC_CLIENT, redirect_uri: CALLBACK },
    { client_id: PUBLIC_CLIENT, redirect_uri: 'http://evil.example/cb', response_type: 'code' }
  ]
  for (const params of bad) {
    const response = await get(logoutUrl(params), { cookie })
    assert.equal(response.status, 400, JSON.stringify(params))
    assert.equal(response.headers.get('location'), null)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    assert.equal(clearsCookie(response), false)
  }
  assert.equal(locationOf(await get(authorizeUrl(cognito), { cookie })).pathname, '/login/redirect', 'session intact')
})

test('logout does not revoke tokens', async () => {
  const tokens = await login(cognito)
  await get(logoutUrl({ client_id: PUBLIC_CLIENT, logout_uri: SIGNED_OUT }))
  assert.equal((await userInfo(cognito, `Bearer ${tokens.access_token}`)).status, 200)
  const refreshed = await token(cognito, { grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: tokens.refresh_token })
  assert.equal(refreshed.status, 200)
})
