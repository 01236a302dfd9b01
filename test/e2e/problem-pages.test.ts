import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startDemo } from '../examples/demo-process.js'
import { launchChromium, screenshot, signIn, watchConsole } from './chromium.js'

// The pages nobody asks for but everybody meets: bob on /admin (403) and a broken sign-in (400). They must look
// like the rest of the demo and say what to do next.
test('a real browser: the 403 page for bob and the 400 page of a failed sign-in', { timeout: 120_000 }, async (t) => {
  const browser = await launchChromium(t)
  if (browser === undefined) return
  const { appUrl, idpUrl } = await startDemo(t)

  await t.test('bob opens /admin, signs in and gets the 403 page', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } })
    t.after(async () => { await context.close() })
    const bob = await context.newPage()
    const problems = watchConsole(bob)
    await bob.goto(`${appUrl}/admin`)
    assert.ok(bob.url().startsWith(`${idpUrl}/login?`), `on the IdP's sign-in page, got ${bob.url()}`)
    await signIn(bob, 'bob', 'bob-password-1')
    await bob.waitForURL(`${appUrl}/admin`)
    assert.match(await bob.textContent('h1') ?? '', /403 · Not allowed/)
    assert.match(await bob.textContent('main') ?? '', /this page needs the group admin/)
    assert.match(await bob.title(), /^403 Not allowed · fastify-cognito demo$/)
    assert.ok(await bob.isVisible('#logout'), 'a way out: Sign out')
    await screenshot(bob, 'demo-forbidden')

    // bob's own page still works, and shows no group.
    await bob.click('text=Your page')
    await bob.waitForURL(`${appUrl}/private`)
    assert.equal(await bob.textContent('#groups'), 'none')
    assert.deepEqual(problems, [])
  })

  await t.test('a callback without a sign-in in progress: the 400 page with the code and a way on', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 760 } })
    t.after(async () => { await context.close() })
    const page = await context.newPage()
    const problems = watchConsole(page)
    const response = await page.goto(`${appUrl}/login/redirect?code=stale-code&state=stale-state`)
    assert.equal(response?.status(), 400)
    assert.match(await page.textContent('h1') ?? '', /400 · Sign-in failed/)
    assert.match(await page.textContent('#problem') ?? '', /FST_COGNITO_LOGIN_STATE_MISSING/)
    assert.equal(await page.getAttribute('#login', 'href'), '/login?returnTo=%2Fprivate')
    await screenshot(page, 'demo-login-error')

    // "Sign in again" is a fresh sign-in that works.
    await page.click('#login')
    await signIn(page, 'alice', 'alice-password-1')
    await page.waitForURL(`${appUrl}/private`)
    assert.equal(await page.textContent('#username'), 'alice')
    assert.deepEqual(problems, [])
  })
})
