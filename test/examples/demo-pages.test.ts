import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { startDemo } from './demo-process.js'
import { FetchBrowser } from './fetch-browser.js'

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8'

test('one address: the demo opened on localhost moves to 127.0.0.1, where the sign-in can finish', async (t) => {
  const { appUrl } = await startDemo(t)
  const other = appUrl.replace('127.0.0.1', 'localhost')

  const moved = await fetch(`${other}/private?tab=1`, { redirect: 'manual', headers: { accept: HTML } })
  assert.deepEqual([moved.status, moved.headers.get('location')], [302, `${appUrl}/private?tab=1`])
  // Only navigations move: a POST keeps its answer (the plugin refuses it as cross-site anyway).
  assert.notEqual((await fetch(`${other}/refresh`, { method: 'POST', redirect: 'manual' })).status, 302)

  // The bug this prevents: the login transaction cookie set on localhost, the callback on 127.0.0.1.
  const browser = new FetchBrowser()
  const home = await browser.get(`${other}/`)
  assert.equal(home.url, `${appUrl}/`)
  const signedIn = await browser.signIn(await browser.get(`${other}/private`), 'alice', 'alice-password-1')
  assert.deepEqual([signedIn.status, signedIn.url], [200, `${appUrl}/private`])
  assert.deepEqual(browser.cookieNames('localhost'), [], 'nothing is ever set on the other name')
})

test('errors: HTML pages for browsers, JSON for API clients; favicon', async (t) => {
  const { appUrl } = await startDemo(t)

  // 404
  const page = await fetch(`${appUrl}/no-such-page?secret=x`, { headers: { accept: HTML } })
  assert.equal(page.status, 404)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  const body = await page.text()
  assert.match(body, /<h1><span class="muted">404<\/span> · Page not found<\/h1>/)
  assert.match(body, /There is no page at <code>\/no-such-page<\/code>\./)
  assert.equal(body.includes('secret'), false, 'the query is not echoed')
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/)
  for (const accept of ['application/json', '*/*', 'text/html;q=0.5, application/json']) {
    const api = await fetch(`${appUrl}/no-such-page`, { headers: { accept } })
    assert.equal(api.status, 404)
    assert.deepEqual(await api.json(), { statusCode: 404, code: 'FST_ERR_NOT_FOUND', error: 'Not Found', message: 'Route GET:/no-such-page not found' }, accept)
  }

  // 400 from the plugin's callback: the same page shape, the code, a hint and a way on.
  const callback = `${appUrl}/login/redirect?code=stale&state=stale`
  const loginError = await fetch(callback, { headers: { accept: HTML } })
  assert.equal(loginError.status, 400)
  const loginBody = await loginError.text()
  assert.match(loginBody, /<h1><span class="muted">400<\/span> · Sign-in failed<\/h1>/)
  assert.match(loginBody, /<code>FST_COGNITO_LOGIN_STATE_MISSING<\/code>/)
  assert.match(loginBody, /another address of this app/)
  assert.match(loginBody, /<a id="login" class="button" href="\/login\?returnTo=%2Fprivate">Sign in again<\/a>/)
  const loginJson = await fetch(callback, { headers: { accept: 'application/json' } })
  assert.equal(((await loginJson.json()) as { code: string }).code, 'FST_COGNITO_LOGIN_STATE_MISSING')

  // The favicon, and no 404 for browsers that ask for /favicon.ico.
  const svg = await fetch(`${appUrl}/favicon.svg`)
  assert.equal(svg.status, 200)
  assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/)
  assert.match(await svg.text(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  const ico = await fetch(`${appUrl}/favicon.ico`, { redirect: 'manual' })
  assert.deepEqual([ico.status, ico.headers.get('location')], [302, '/favicon.svg'])
})

test('APP_BASE_URL must be an origin: a path could never match the callback route', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    env: { ...process.env, COGNITO_USER_POOL_ID: '', APP_BASE_URL: 'http://localhost:3000/app', PORT: '0' },
    encoding: 'utf8',
    timeout: 30_000
  })
  assert.equal(result.status, 1, result.stderr)
  assert.match(result.stderr, /APP_BASE_URL must be the app's origin \(scheme, host and port, no path\), such as http:\/\/localhost:3000, got "http:\/\/localhost:3000\/app"/)
})
