import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import type { TestContext } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'

// Debian's Chromium (`apt-get install -y chromium`, done by .ci/run); playwright-core never downloads a browser.
const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
export const SCREENSHOTS = 'test-output'

/** Chromium, closed when the test ends; undefined (the test skipped) where it is missing, except in CI. */
export async function launchChromium (t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    // CI installs Chromium, so there a missing browser is a failure, never a silent skip.
    assert.notEqual(process.env.CI, 'true', `${CHROMIUM} is missing in CI: .ci/run must install it (apt-get install -y chromium)`)
    t.skip(`no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" to run the browser test`)
    return undefined
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
  t.after(async () => { await browser.close() })
  return browser
}

/** test-output/<name>.png, the whole page: look at these after a change to the pages. */
export async function screenshot (page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true })
}

/** Fills the IdP's sign-in form (Cognito's classic hosted-UI ids) and submits it. */
export async function signIn (page: Page, username: string, password: string, shot?: string): Promise<void> {
  await page.waitForSelector('#signInFormUsername')
  await page.fill('#signInFormUsername', username)
  await page.fill('#signInFormPassword', password)
  if (shot !== undefined) await screenshot(page, shot)
  await page.click('button[name=signInSubmitButton]')
}

/**
 * What a developer would see in the console: script errors, CSP violations and failed subresources (a missing
 * favicon or script). Pages answered with an error status on purpose (404, 403) are documents and not counted;
 * `expected` lets a test allow a request it makes fail on purpose.
 */
export function watchConsole (page: Page, expected: (url: string) => boolean = () => false): string[] {
  const problems: string[] = []
  page.on('pageerror', (error) => { problems.push(`script error: ${error.message}`) })
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`)
  })
  page.on('response', (response) => {
    const request = response.request()
    if (response.status() >= 400 && request.resourceType() !== 'document' && !expected(response.url())) {
      problems.push(`${response.status()} ${request.method()} ${response.url()}`)
    }
  })
  page.on('requestfailed', (request) => { problems.push(`failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`) })
  return problems
}

/** The element's text colour as [r, g, b]: tells the green success notice from the red failure. */
export async function colorOf (page: Page, selector: string): Promise<[number, number, number]> {
  // Strings, not functions: the tests compile without the DOM library.
  const color = String(await page.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(selector)})).color`))
  const [r = 0, g = 0, b = 0] = (color.match(/\d+/g) ?? []).map(Number)
  return [r, g, b]
}

/** True when nothing sticks out sideways: no horizontal scrolling at the page's width. */
export async function fitsWidth (page: Page): Promise<boolean> {
  return await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth') === true
}
