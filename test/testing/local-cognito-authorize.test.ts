import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, PUBLIC_CLIENT, authorizeUrl, decodePart, formBody, get, locationOf, manualClock, pkcePair, signIn, startCognito, token
} from './local-cognito-helpers.js'

let cognito: LocalCognito

before(async () => { cognito = await startLocalCognito() })
after(async () => { await cognito.close() })

async function assertErrorPage (response: Response): Promise<string> {
  assert.equal(response.status, 400)
  assert.equal(response.headers.get('location'), null, 'never a redirect')
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
  return await response.text()
}

async function assertErrorRedirect (url: string, error: string, state?: string): Promise<void> {
  const response = await get(url)
  assert.equal(response.status, 302)
  const location = locationOf(response)
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK)
  assert.equal(location.searchParams.get('error'), error)
  assert.equal(location.searchParams.get('state'), state ?? null)
  assert.equal(location.searchParams.get('code'), null)
}

function htmlUnescape (value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
}

test('an unknown client or an unregistered redirect_uri gives an error page, never a redirect', async () => {
  await assertErrorPage(await get(authorizeUrl(cognito, { clientId: 'unknown-client' })))
  await assertErrorPage(await get(`${cognito.domain}/oauth2/authorize?redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code`))
  const page = await assertErrorPage(await get(authorizeUrl(cognito, { redirectUri: 'http://evil.example/cb', state: 's' })))
  assert.match(page, /redirect_mismatch/)
  await assertErrorPage(await get(authorizeUrl(cognito, { redirectUri: `${CALLBACK}/` })))
  await assertErrorPage(await get(`${cognito.domain}/oauth2/authorize?client_id=${PUBLIC_CLIENT}&response_type=code`))
})

test('PKCE accepts S256 only and needs both parameters; errors go back to the client with the state', async () => {
  const { challenge } = pkcePair()
  await assertErrorRedirect(authorizeUrl(cognito, { challenge, method: 'plain', state: 'st' }), 'invalid_request', 'st')
  await assertErrorRedirect(authorizeUrl(cognito, { challenge, state: 'st' }), 'invalid_request', 'st')
  await assertErrorRedirect(authorizeUrl(cognito, { method: 'S256' }), 'invalid_request')
  await assertErrorRedirect(authorizeUrl(cognito, { challenge: 'too-short', method: 'S256' }), 'invalid_request')
})

test('response_type must be code', async () => {
  await assertErrorRedirect(authorizeUrl(cognito, { responseType: 'token', state: 'a' }), 'unauthorized_client', 'a')
  await assertErrorRedirect(authorizeUrl(cognito, { responseType: 'id_token', state: 'b' }), 'unsupported_response_type', 'b')
  await assertErrorRedirect(`${cognito.domain}/oauth2/authorize?client_id=${PUBLIC_CLIENT}&redirect_uri=${encodeURIComponent(CALLBACK)}`, 'invalid_request')
})

test('scopes the client does not allow are ignored; nothing left is invalid_scope', async () => {
  await assertErrorRedirect(authorizeUrl(cognito, { scope: 'foo bar', state: 'x' }), 'invalid_scope', 'x')
  await assertErrorRedirect(authorizeUrl(cognito, { scope: 'email phone profile' }), 'invalid_scope')
  const response = await get(authorizeUrl(cognito, { scope: 'openid foo' }))
  assert.equal(locationOf(response).pathname, '/login')
})

test('a valid request is recorded and sent to /login with the same query', async () => {
  const { challenge } = pkcePair()
  const sent = {
    client_id: PUBLIC_CLIENT,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid email',
    state: 'state 1',
    nonce: 'nonce-1',
    code_challenge: challenge,
    code_challenge_method: 'S256'
  }
  const before = cognito.requests.authorize
  const response = await get(`${cognito.domain}/oauth2/authorize?${new URLSearchParams(sent).toString()}`)
  assert.equal(response.status, 302)
  const location = locationOf(response)
  assert.equal(`${location.origin}${location.pathname}`, `${cognito.domain}/login`)
  assert.deepEqual(Object.fromEntries(location.searchParams), sent)
  assert.deepEqual(cognito.lastAuthorizeQuery, sent)
  assert.equal(cognito.requests.authorize, before + 1)

  await get(authorizeUrl(cognito, { clientId: 'someone-else' }))
  assert.equal(cognito.lastAuthorizeQuery?.client_id, 'someone-else', 'recorded even when refused')
})

test('the sign-in page is a real form and escapes every echoed value', async () => {
  const evil = '"><script>alert(1)</script>'
  const url = authorizeUrl(cognito, { state: evil, nonce: "'><img src=x onerror=alert(2)>" }).replace('/oauth2/authorize', '/login')
  const response = await get(url)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
  const html = await response.text()
  assert.doesNotMatch(html, /<script>alert|<img src=x/)
  assert.match(html, /<form [^>]*method="post"/)
  assert.match(html, /<input [^>]*name="username"/)
  assert.match(html, /<input [^>]*name="password"[^>]*type="password"|<input [^>]*type="password"[^>]*name="password"/)
  assert.match(html, /<button type="submit"/)
  const action = /action="([^"]*)"/.exec(html)?.[1]
  assert.ok(action !== undefined)
  const target = new URL(htmlUnescape(action), cognito.domain)
  assert.equal(target.pathname, '/login')
  assert.equal(target.searchParams.get('state'), evil, 'the form carries the query along intact')

  const posted = await fetch(target, { method: 'POST', redirect: 'manual', ...formBody({ username: '<b>mallory</b>', password: 'x' }) })
  const again = await posted.text()
  assert.doesNotMatch(again, /<b>mallory/)
  assert.match(again, /&lt;b&gt;mallory/)
})

test('wrong credentials show the form again with Cognito\'s message, without cookie or code', async () => {
  const loginUrl = locationOf(await get(authorizeUrl(cognito, { state: 's' })))
  for (const [username, password] of [['alice', 'wrong'], ['nobody', 'alice-password-1'], ['alice', '']]) {
    const response = await fetch(loginUrl, { method: 'POST', redirect: 'manual', ...formBody({ username: username ?? '', password: password ?? '' }) })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('location'), null)
    assert.deepEqual(response.headers.getSetCookie(), [])
    assert.match(await response.text(), /Incorrect username or password\./)
  }
})

test('POST /login re-validates the client and redirect_uri instead of trusting the query', async () => {
  const form = formBody({ username: 'alice', password: 'alice-password-1' })
  const evil = `${cognito.domain}/login?client_id=${PUBLIC_CLIENT}&redirect_uri=${encodeURIComponent('http://evil.example/cb')}&response_type=code`
  await assertErrorPage(await fetch(evil, { method: 'POST', redirect: 'manual', ...form }))
  const unknown = `${cognito.domain}/login?client_id=nope&redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code`
  await assertErrorPage(await fetch(unknown, { method: 'POST', redirect: 'manual', ...form }))
  const plain = authorizeUrl(cognito, { challenge: pkcePair().challenge, method: 'plain' }).replace('/oauth2/authorize', '/login')
  const refused = await fetch(plain, { method: 'POST', redirect: 'manual', ...form })
  assert.equal(locationOf(refused).searchParams.get('error'), 'invalid_request')
})

test('the managed-login cookie lets a second authorize skip the form and keeps auth_time', async (t) => {
  const clock = manualClock()
  const timed = await startCognito(t, { now: clock.now })
  const { verifier, challenge } = pkcePair()
  const first = await signIn(timed, { challenge, method: 'S256', scope: 'openid' })
  assert.match(first.setCookie, /HttpOnly/i)
  assert.match(first.setCookie, /Max-Age=3600/i)
  assert.match(first.setCookie, /Path=\//i)

  clock.advance(120)
  const again = await get(authorizeUrl(timed, { state: 'second', challenge, method: 'S256', scope: 'openid' }), { cookie: first.cookie })
  assert.equal(again.status, 302)
  const callback = locationOf(again)
  assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK)
  assert.equal(callback.searchParams.get('state'), 'second')
  assert.equal(timed.requests.login, 1, 'no sign-in page the second time')

  const exchange = async (code: string): Promise<Record<string, unknown>> => {
    const answer = await token(timed, { grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code, redirect_uri: CALLBACK, code_verifier: verifier })
    assert.equal(answer.status, 200)
    return decodePart(String(answer.body.access_token), 1)
  }
  const firstClaims = await exchange(first.code)
  const secondClaims = await exchange(callback.searchParams.get('code') ?? '')
  assert.equal(secondClaims.auth_time, firstClaims.auth_time)
  assert.equal(Number(secondClaims.iat) - Number(secondClaims.auth_time), 120)
  assert.notEqual(secondClaims.origin_jti, firstClaims.origin_jti, 'a new token session')

  const forced = await get(authorizeUrl(timed, { extra: { prompt: 'login' } }), { cookie: first.cookie })
  assert.equal(locationOf(forced).pathname, '/login')
  const silent = await get(authorizeUrl(timed, { state: 'q', extra: { prompt: 'none' } }))
  assert.equal(locationOf(silent).searchParams.get('error'), 'login_required')
})

test('the managed-login session lasts one hour', async (t) => {
  const clock = manualClock()
  const timed = await startCognito(t, { now: clock.now })
  const { cookie } = await signIn(timed)
  clock.advance(3599)
  assert.equal(locationOf(await get(authorizeUrl(timed), { cookie })).pathname, '/login/redirect')
  clock.advance(2)
  assert.equal(locationOf(await get(authorizeUrl(timed), { cookie })).pathname, '/login')
})
