import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { test } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startDemo } from '../examples/demo-process.js'

// Debian's Chromium (`apt-get install -y chromium`, done by .ci/run); playwright-core never downloads a browser.
const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const SCREENSHOT = 'test-output/private.png'

async function signIn (page: Page, username: string, password: string): Promise<void> {
  await page.waitForSelector('#signInFormUsername')
  await page.fill('#signInFormUsername', username)
  await page.fill('#signInFormPassword', password)
  await page.click('button[name=signInSubmitButton]')
}

test('a real browser: login, /private, /admin 403 and 200, refresh, logout', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    // CI installs Chromium, so there a missing browser is a failure, never a silent skip.
    assert.notEqual(process.env.CI, 'true', `${CHROMIUM} is missing in CI: .ci/run must install it (apt-get install -y chromium)`)
    t.skip(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" to run the browser test`)
    return
  }
  const demo = await startDemo(t)
  const { appUrl, idpUrl } = demo
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  t.after(async () => { await browser.close() })

  // bob: no group.
  const bobContext = await browser.newContext()
  const bob = await bobContext.newPage()
  await bob.goto(`${appUrl}/`)
  await bob.click('#login')
  assert.ok(bob.url().startsWith(`${idpUrl}/login?`), `on the IdP's sign-in page, got ${bob.url()}`)
  await signIn(bob, 'bob', 'bob-password-1')
  await bob.waitForURL(`${appUrl}/private`)
  assert.equal(await bob.textContent('#username'), 'bob')
  assert.equal(await bob.textContent('#groups'), 'none')
  const forbidden = await bob.goto(`${appUrl}/admin`)
  assert.equal(forbidden?.status(), 403)
  assert.match(await bob.textContent('main') ?? '', /this page needs the group admin/)
  await bobContext.close()

  // alice: group admin.
  const aliceContext = await browser.newContext({ viewport: { width: 1000, height: 760 } })
  const alice = await aliceContext.newPage()
  await alice.goto(`${appUrl}/`)
  await alice.click('#login')
  await signIn(alice, 'alice', 'alice-password-1')
  await alice.waitForURL(`${appUrl}/private`)
  assert.equal(await alice.textContent('#username'), 'alice')
  assert.equal(await alice.textContent('#email'), 'alice@example.com (verified)')
  assert.equal(await alice.textContent('#groups'), 'admin')

  const admin = await alice.goto(`${appUrl}/admin`)
  assert.equal(admin?.status(), 200)
  assert.match(await alice.textContent('h1') ?? '', /Admin area/)

  await alice.goto(`${appUrl}/private`)
  const refreshed = alice.waitForResponse(response => response.url() === `${appUrl}/refresh`)
  await alice.click('#refresh')
  assert.equal((await refreshed).status(), 200)
  await alice.waitForSelector('#refresh-status:has-text("Tokens refreshed")')
  assert.match(await alice.textContent('#expiry') ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ min\)$/)
  await mkdir('test-output', { recursive: true })
  await alice.screenshot({ path: SCREENSHOT, fullPage: true })

  await alice.click('#logout')
  await alice.waitForURL(`${appUrl}/`)
  await alice.goto(`${appUrl}/private`)
  assert.ok(alice.url().startsWith(`${idpUrl}/login?`), `/private sends a signed-out browser to sign in, got ${alice.url()}`)
  await alice.waitForSelector('#signInFormUsername')
  await aliceContext.close()
})
