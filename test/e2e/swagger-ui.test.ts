import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startDemo } from '../examples/demo-process.js'
import { launchChromium, screenshot, signIn, watchConsole } from './chromium.js'

// Swagger UI of the demo (/docs) as a developer uses it: Authorize signs in on the local Cognito in a popup
// (authorization code + PKCE, a public client, the code exchanged by the page itself through CORS), then "Try it
// out" on a guarded route sends the access token and gets 200. Screenshots: test-output/swagger-ui*.png.
test('Swagger UI: Authorize with PKCE on the local Cognito, then Try it out on a guarded route answers 200', { timeout: 180_000 }, async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { appUrl, idpUrl } = await startDemo(t)
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
  t.after(async () => { await context.close() })
  const page = await context.newPage()
  const problems = watchConsole(page)

  await t.test('/docs shows the guarded routes with a lock and the plugin\'s routes', async () => {
    await page.goto(`${appUrl}/docs`)
    await page.waitForSelector('#operations-Demo_API-get_api_me')
    assert.ok(await page.isVisible('#operations-Demo_API-get_api_me .authorization__btn'), 'a lock on GET /api/me')
    assert.ok(await page.isVisible('#operations-Authentication-get_login'), 'the plugin\'s routes, under their tag')
    assert.equal(await page.$('#operations-Authentication-get_login .authorization__btn'), null, 'no lock on /login')
    await screenshot(page, 'swagger-ui-docs')
  })

  await t.test('Authorize: the Cognito sign-in opens in a popup, and Swagger UI gets the tokens', async () => {
    await page.click('.auth-wrapper .btn.authorize')
    await page.waitForSelector('.modal-ux .auth-container')
    const oauth2 = page.locator('.modal-ux .auth-container').filter({ hasText: 'authorizationCode with PKCE' })
    assert.equal(await oauth2.locator('#client_id_authorizationCode').inputValue(), 'demo-app-client')
    assert.equal(await oauth2.locator('#client_secret_authorizationCode').inputValue(), '', 'no secret in the page: PKCE, a public client')
    await screenshot(page, 'swagger-ui-authorize')
    const authorizeUrls: string[] = []
    const tokenBodies: string[] = []
    context.on('request', (request) => {
      if (request.url().startsWith(`${idpUrl}/oauth2/authorize`)) authorizeUrls.push(request.url())
      if (request.url() === `${idpUrl}/oauth2/token` && request.method() === 'POST') tokenBodies.push(request.postData() ?? '')
    })
    const [popup] = await Promise.all([context.waitForEvent('page'), oauth2.locator('button.authorize').click()])
    await popup.waitForLoadState()
    assert.ok(popup.url().startsWith(`${idpUrl}/`), `the IdP's sign-in page, got ${popup.url()}`)
    // Waited for from before the sign-in: on a fast machine the popup closes before signIn() returns.
    const closed = popup.isClosed() ? Promise.resolve() : popup.waitForEvent('close', { timeout: 45_000 })
    await signIn(popup, 'alice', 'alice-password-1')
    await closed
    await page.locator('.modal-ux button', { hasText: 'Logout' }).waitFor()
    assert.match(await page.textContent('.modal-ux') ?? '', /Authorized/)
    const authorize = new URL(authorizeUrls[0] ?? 'http://missing/')
    assert.deepEqual([authorize.searchParams.get('client_id'), authorize.searchParams.get('code_challenge_method')], ['demo-app-client', 'S256'])
    assert.equal(authorize.searchParams.get('redirect_uri'), `${appUrl}/docs/static/oauth2-redirect.html`)
    const exchange = new URLSearchParams(tokenBodies[0])
    assert.deepEqual([exchange.get('grant_type'), exchange.get('client_secret'), exchange.has('code_verifier')], ['authorization_code', null, true], 'PKCE, no secret')
    await screenshot(page, 'swagger-ui-authorized')
    await page.click('.modal-ux button.close-modal')
    await page.locator('.modal-ux').waitFor({ state: 'detached' })
  })

  await t.test('Try it out on GET /api/me: 200 with alice', async () => {
    const operation = page.locator('#operations-Demo_API-get_api_me')
    await operation.locator('.opblock-summary').click()
    await operation.locator('button.try-out__btn').click()
    const answered = page.waitForResponse((response) => response.url() === `${appUrl}/api/me`)
    await operation.locator('button.execute').click()
    const response = await answered
    assert.equal(response.status(), 200)
    assert.match(response.request().headers().authorization ?? '', /^Bearer ey/)
    assert.equal((await response.json() as { username: string }).username, 'alice')
    await operation.locator('.live-responses-table tbody .response-col_status').first().waitFor()
    assert.match(await operation.locator('.live-responses-table tbody .response-col_status').first().textContent() ?? '', /200/)
    await operation.scrollIntoViewIfNeeded()
    await screenshot(page, 'swagger-ui')
  })

  assert.deepEqual(problems, [])
})
