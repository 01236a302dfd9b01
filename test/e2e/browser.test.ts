import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startDemo } from '../examples/demo-process.js'
import { colorOf, fitsWidth, launchChromium, screenshot, signIn, watchConsole } from './chromium.js'

const EXPIRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+ min\)$/

// One walk through the demo as alice, the way a new user clicks through it, with a screenshot of every page in
// test-output/ (demo-*.png). Steps share the browser tab, so each starts where the last one ended.
test('a real browser: alice signs in, sees every page, refreshes, signs out', { timeout: 180_000 }, async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { appUrl, idpUrl } = await startDemo(t)
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } })
  t.after(async () => { await context.close() })
  const page = await context.newPage()
  // The refresh after the sign-out in another tab fails on purpose.
  const problems = watchConsole(page, url => url === `${appUrl}/refresh`)

  await t.test('opened on localhost, the demo moves to its one address and shows "Not signed in"', async () => {
    await page.goto(`${appUrl.replace('127.0.0.1', 'localhost')}/`)
    assert.equal(page.url(), `${appUrl}/`)
    assert.match(await page.textContent('#session-status') ?? '', /Not signed in\./)
    assert.equal(await page.getAttribute('link[rel=icon]', 'href'), '/favicon.svg')
    await screenshot(page, 'demo-home-signed-out')
  })

  await t.test('Sign in -> the IdP form -> /private', async () => {
    await page.click('#login')
    assert.ok(page.url().startsWith(`${idpUrl}/login?`), `on the IdP's sign-in page, got ${page.url()}`)
    await signIn(page, 'alice', 'alice-password-1', 'demo-sign-in')
    await page.waitForURL(`${appUrl}/private`)
    assert.equal(await page.textContent('#username'), 'alice')
    assert.equal(await page.textContent('#email'), 'alice@example.com (verified)')
    assert.equal(await page.textContent('#groups'), 'admin')
    assert.match(await page.textContent('#expiry') ?? '', EXPIRY)
    assert.equal(await page.getAttribute('nav a[aria-current=page]', 'href'), '/private')
    await screenshot(page, 'demo-private')
  })

  await t.test('the home page says who is signed in', async () => {
    await page.goto(`${appUrl}/`)
    assert.match(await page.textContent('#session-status') ?? '', /Signed in as alice \(groups: admin\)/)
    assert.equal(await page.$('#login'), null, 'no Sign in button for a signed-in user')
    await screenshot(page, 'demo-home-signed-in')
  })

  await t.test('/admin lets the admin in', async () => {
    const admin = await page.goto(`${appUrl}/admin`)
    assert.equal(admin?.status(), 200)
    assert.match(await page.textContent('h1') ?? '', /Admin area/)
    await screenshot(page, 'demo-admin')
  })

  await t.test('/token is a page with both tokens\' claims, Refresh and Sign out', async () => {
    const token = await page.goto(`${appUrl}/token`)
    assert.match(token?.headers()['content-type'] ?? '', /^text\/html/)
    assert.match(await page.textContent('#access-claims') ?? '', /username\s*alice/)
    assert.match(await page.textContent('#id-claims') ?? '', /email\s*alice@example\.com/)
    assert.match(await page.textContent('#expiry') ?? '', EXPIRY)
    assert.equal(await page.getAttribute('#token-json', 'href'), '/token.json')
    assert.ok(await page.isVisible('#refresh') && await page.isVisible('#logout'))
    assert.equal(await page.isVisible('#refresh-status'), false, 'no message before a refresh')
    await screenshot(page, 'demo-token')
  })

  await t.test('Refresh tokens: a green success message', async () => {
    const refreshed = page.waitForResponse(response => response.url() === `${appUrl}/refresh`)
    await page.click('#refresh')
    assert.equal((await refreshed).status(), 200)
    await page.waitForSelector('#refresh-status.success:has-text("Tokens refreshed")')
    const [r, g] = await colorOf(page, '#refresh-status')
    assert.ok(g > r, 'success is green')
    assert.match(await page.textContent('#expiry') ?? '', EXPIRY)
    await screenshot(page, 'demo-token-refreshed')
  })

  await t.test('an unknown address: an HTML 404 page', async () => {
    const missing = await page.goto(`${appUrl}/no-such-page`)
    assert.equal(missing?.status(), 404)
    assert.match(await page.textContent('#problem') ?? '', /There is no page at \/no-such-page\./)
    await screenshot(page, 'demo-not-found')
  })

  await t.test('380 px wide: nothing overflows', async () => {
    await page.setViewportSize({ width: 380, height: 760 })
    for (const [path, name] of [['/', 'demo-home-380'], ['/token', 'demo-token-380']] as const) {
      await page.goto(`${appUrl}${path}`)
      assert.ok(await fitsWidth(page), `${path} fits 380 px`)
      await screenshot(page, name)
    }
    await page.setViewportSize({ width: 1000, height: 760 })
  })

  await t.test('signed out in another tab: Refresh fails in red, with the error code', async () => {
    await page.goto(`${appUrl}/token`)
    const other = await context.newPage()
    await other.goto(`${appUrl}/`)
    await other.click('#logout')
    await other.waitForURL(`${appUrl}/signed-out`)
    assert.match(await other.textContent('#signed-out') ?? '', /You are signed out\./)
    assert.match(await other.textContent('#session-status') ?? '', /Not signed in\./)
    await screenshot(other, 'demo-signed-out')
    await other.close()

    await page.click('#refresh')
    await page.waitForSelector('#refresh-status.error')
    assert.match(await page.textContent('#refresh-status') ?? '', /^Refresh failed: FST_COGNITO_UNAUTHENTICATED \(401\) Authentication required\. Sign in again$/)
    const [r, g] = await colorOf(page, '#refresh-status')
    assert.ok(r > g, 'failure is red')
    assert.equal(await page.getAttribute('#refresh-status a', 'href'), '/login?returnTo=%2Ftoken')
    await screenshot(page, 'demo-refresh-failed')
  })

  await t.test('signed out, /private sends the browser to sign in again', async () => {
    await page.goto(`${appUrl}/private`)
    assert.ok(page.url().startsWith(`${idpUrl}/login?`), `/private sends a signed-out browser to sign in, got ${page.url()}`)
    await page.waitForSelector('#signInFormUsername')
  })

  assert.deepEqual(problems, [], 'no script error, CSP violation or failed subresource on any page')
})
