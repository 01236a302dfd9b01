import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startLocalCognito } from '../../lib/testing/index.js'
import { startRedis } from '../helpers/redis-server.js'
import { freePort, startDemo } from './demo-process.js'
import { FetchBrowser } from './fetch-browser.js'

test('npm run example: the demo serves its pages and signs users in through the local IdP', async (t) => {
  const demo = await startDemo(t)
  const { appUrl, idpUrl } = demo
  for (const line of [`App:            ${appUrl}/`, `Local Cognito:  ${idpUrl}`, 'alice  / alice-password-1  (group admin)', 'bob    / bob-password-1    (no group)', `Open ${appUrl}/ and click Sign in.`]) {
    assert.ok(demo.output().includes(line), `the banner prints ${line}`)
  }
  assert.equal((await fetch(`${idpUrl}/us-east-1_LOCALpool/.well-known/jwks.json`)).status, 200)

  const bob = new FetchBrowser()
  const home = await bob.get(`${appUrl}/`)
  assert.equal(home.status, 200)
  assert.match(home.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(home.body, /<strong>Not signed in\.<\/strong>/)
  assert.match(home.body, /<link rel="icon" href="\/favicon\.svg"/)
  const loginHref = /id="login"[^>]*href="([^"]+)"/.exec(home.body)?.[1]
  assert.equal(loginHref, '/login?returnTo=%2Fprivate')
  assert.match(home.body, /alice-password-1/)

  // Login -> the IdP's form -> back through the callback -> /private.
  const form = await bob.get(new URL(loginHref, appUrl).href)
  assert.equal(new URL(form.url).origin, idpUrl)
  const privatePage = await bob.signIn(form, 'bob', 'bob-password-1')
  assert.deepEqual([privatePage.status, privatePage.url], [200, `${appUrl}/private`])
  assert.match(privatePage.body, /<span id="username">bob<\/span>/)
  assert.match(privatePage.body, /bob@example\.com/)
  assert.match(privatePage.body, /<td id="groups"><span class="muted">none<\/span><\/td>/)
  assert.match(privatePage.body, /id="expiry">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 15 min\)</)
  // A session of a user in no group fits in one cookie since the session cookie has a single encoding layer.
  assert.deepEqual(bob.cookieNames('127.0.0.1').sort(), ['cognito', 'cognito_session.0'],
    'the IdP cookie and the app session share the host without colliding')

  // The home page knows who is signed in without asking anyone to sign in.
  const signedInHome = await bob.get(`${appUrl}/`)
  assert.match(signedInHome.body, /Signed in as <strong id="signed-in-user">bob<\/strong> <span class="muted">\(no groups\)<\/span>/)
  assert.equal(signedInHome.headers.get('www-authenticate'), null)

  const forbidden = await bob.get(`${appUrl}/admin`)
  assert.equal(forbidden.status, 403)
  assert.match(forbidden.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(forbidden.body, /this page needs the group <code>admin<\/code>/)

  // /token: a page for the browser, JSON for a client that asks for it, and always JSON at /token.json.
  const tokenPage = await bob.get(`${appUrl}/token`)
  assert.match(tokenPage.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(tokenPage.body, /<table class="kv claims" id="access-claims">[^]*<th><code>username<\/code><\/th><td>bob<\/td>/)
  assert.match(tokenPage.body, /<table class="kv claims" id="id-claims">[^]*<th><code>email<\/code><\/th><td>bob@example\.com<\/td>/)
  assert.match(tokenPage.body, /id="refresh"[^>]*data-refresh-path="\/refresh"/)
  assert.match(tokenPage.body, /<button id="logout"/)
  assert.match(tokenPage.body, /href="\/token\.json"/)
  for (const path of ['/token', '/token.json']) {
    const token = await bob.get(`${appUrl}${path}`, 'application/json')
    assert.equal(token.status, 200)
    assert.match(token.headers.get('content-type') ?? '', /^application\/json/)
    const claims = JSON.parse(token.body) as { accessToken: Record<string, unknown>, idToken: Record<string, unknown> }
    assert.deepEqual([claims.accessToken.username, claims.accessToken.token_use, claims.accessToken.client_id], ['bob', 'access', 'demo-app-client'])
    assert.deepEqual([claims.idToken['cognito:username'], claims.idToken.token_use, claims.idToken.email], ['bob', 'id', 'bob@example.com'])
  }
  assert.match((await bob.get(`${appUrl}/token.json`)).headers.get('content-type') ?? '', /^application\/json/, 'JSON even for a browser')

  const script = await bob.get(`${appUrl}/assets/session.js`)
  assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/)
  assert.match(script.body, /fetch\(button\.dataset\.refreshPath, \{ method: 'POST', headers: \{ accept: 'application\/json' \} \}\)/)
  const refresh = await bob.request('POST', `${appUrl}/refresh`, { accept: 'application/json' })
  assert.equal(refresh.status, 200)
  assert.ok((JSON.parse(refresh.body) as { expiresAt: number }).expiresAt > Date.now() / 1000)

  // Sign out: the app, then the IdP's /logout, then back on the signed-out page; /private wants a login again.
  // The Sign out button is a form: an empty application/x-www-form-urlencoded body, as a browser posts it.
  const loggedOut = await bob.request('POST', `${appUrl}/logout`, { form: {} })
  assert.deepEqual([loggedOut.status, loggedOut.url], [200, `${appUrl}/signed-out`])
  assert.match(loggedOut.body, /<strong>You are signed out\.<\/strong>/)
  assert.match(loggedOut.body, /<strong>Not signed in\.<\/strong>/)
  assert.deepEqual(bob.cookieNames('127.0.0.1'), [])
  const again = await bob.get(`${appUrl}/private`)
  assert.equal(new URL(again.url).origin, idpUrl)
  assert.match(again.body, /id="signInFormUsername"/)
  assert.equal((await bob.get(`${appUrl}/token`, 'application/json')).status, 401)
  const refused = await bob.request('POST', `${appUrl}/refresh`, { accept: 'application/json' })
  assert.equal(refused.status, 401)
  assert.equal((JSON.parse(refused.body) as { code: string }).code, 'FST_COGNITO_UNAUTHENTICATED', 'the code the Refresh button shows')

  // The admin gets /admin.
  const alice = new FetchBrowser()
  const aliceForm = await alice.get(`${appUrl}/admin`)
  const admin = await alice.signIn(aliceForm, 'alice', 'alice-password-1')
  assert.deepEqual([admin.status, admin.url], [200, `${appUrl}/admin`])
  assert.match(admin.body, /Welcome, <strong>alice<\/strong>/)

  // A wrong password stays on the IdP's form with Cognito's message.
  const wrong = await new FetchBrowser().signIn(await new FetchBrowser().get(`${appUrl}/private`), 'alice', 'nope')
  assert.match(wrong.body, /Incorrect username or password\./)

  // Ctrl-C stops both servers.
  assert.equal(await demo.interrupt(), 0)
  assert.match(demo.output(), /Stopped\./)
  await assert.rejects(fetch(`${appUrl}/`))
  await assert.rejects(fetch(`${idpUrl}/`))
})

test('REDIS_URL=… npm run example: the same demo with its sessions on Redis, one small cookie per browser', async (t) => {
  const redis = await startRedis(t)
  const demo = await startDemo(t, { REDIS_URL: redis.url })
  const { appUrl } = demo
  assert.ok(demo.output().includes(`Sessions:       on Redis at 127.0.0.1:${redis.port} (one small cookie per browser)`), demo.output())

  const bob = new FetchBrowser()
  const privatePage = await bob.signIn(await bob.get(`${appUrl}/private`), 'bob', 'bob-password-1')
  assert.deepEqual([privatePage.status, privatePage.url], [200, `${appUrl}/private`])
  assert.match(privatePage.body, /<span id="username">bob<\/span>/)
  assert.deepEqual(bob.cookieNames('127.0.0.1').sort(), ['cognito', 'cognito_sid'])
  const client = await redis.client()
  assert.equal((await client.keys('fastify-cognito:demo-app-client:s:*')).length, 1)

  const loggedOut = await bob.request('POST', `${appUrl}/logout`, { form: {} })
  assert.deepEqual([loggedOut.status, loggedOut.url], [200, `${appUrl}/signed-out`])
  assert.deepEqual(bob.cookieNames('127.0.0.1'), [])
  assert.deepEqual(await client.keys('fastify-cognito:demo-app-client:s:*'), [])

  assert.equal(await demo.interrupt(), 0)
  assert.match(demo.output(), /Stopped\./)
})

test('the demo without REDIS_URL says where its sessions are', async (t) => {
  const demo = await startDemo(t)
  assert.ok(demo.output().includes('Sessions:       in encrypted cookies (set REDIS_URL to keep them on Redis)'), demo.output())
  assert.equal(await demo.interrupt(), 0)
})

test('the same demo on a user pool given by environment variables, with a confidential client', async (t) => {
  // A pool of its own stands in for Cognito: the demo sees only COGNITO_* variables, as with a real user pool.
  const port = await freePort()
  const appUrl = `http://127.0.0.1:${port}`
  const pool = await startLocalCognito({
    userPoolId: 'eu-west-1_DemoPool1',
    region: 'eu-west-1',
    users: [{ username: 'carol', password: 'carol-password-1', email: 'carol@example.com', groups: ['admin'] }],
    clients: [{ clientId: 'env-client', clientSecret: 'env-client-secret', callbackUrls: [`${appUrl}/login/redirect`], logoutUrls: [`${appUrl}/signed-out`] }]
  })
  t.after(async () => { await pool.close() })
  const demo = await startDemo(t, {
    PORT: String(port),
    APP_BASE_URL: appUrl,
    COGNITO_USER_POOL_ID: pool.userPoolId,
    COGNITO_CLIENT_ID: 'env-client',
    COGNITO_CLIENT_SECRET: 'env-client-secret',
    COGNITO_DOMAIN: pool.domain,
    COGNITO_ISSUER: pool.issuer,
    SESSION_SECRET: 'an-environment-session-secret-of-40-chars'
  })
  for (const line of [
    `Cognito:        ${pool.domain} (user pool eu-west-1_DemoPool1, app client env-client)`,
    `Callback URL:   ${appUrl}/login/redirect`,
    `Sign-out URL:   ${appUrl}/signed-out`
  ]) assert.ok(demo.output().includes(line), `the banner prints ${line}`)
  assert.equal(demo.output().includes('Local Cognito'), false, 'no local IdP is started')

  const browser = new FetchBrowser()
  const home = await browser.get(`${appUrl}/`)
  assert.match(home.body, /the Cognito user pool eu-west-1_DemoPool1/)
  assert.equal(home.body.includes('Demo users'), false)
  const admin = await browser.signIn(await browser.get(`${appUrl}/admin`), 'carol', 'carol-password-1')
  assert.deepEqual([admin.status, admin.url], [200, `${appUrl}/admin`])
  assert.deepEqual([pool.requests.tokenAuthorizationCode, pool.requests.jwks > 0], [1, true])
  const loggedOut = await browser.request('POST', `${appUrl}/logout`, { form: {} })
  assert.deepEqual([loggedOut.status, loggedOut.url, pool.requests.revoke], [200, `${appUrl}/signed-out`, 1])
})

test('the demo refuses to start half-configured for a real user pool', async () => {
  const { spawnSync } = await import('node:child_process')
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
    env: { ...process.env, COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: '', COGNITO_DOMAIN: '', SESSION_SECRET: '', PORT: '0' },
    encoding: 'utf8',
    timeout: 30_000
  })
  assert.equal(result.status, 1, result.stderr)
  assert.match(result.stderr, /also needs: COGNITO_CLIENT_ID, COGNITO_DOMAIN, SESSION_SECRET \(see \.env\.example\)/)
})
