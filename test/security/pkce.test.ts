import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { buildApp, CookieJar, location, signInAtIdp, startIdp } from '../helpers/app.js'
import { forwardTo, startFakeCognito, type ExchangeRecord } from '../helpers/fake-cognito.js'

test('only S256 is ever sent, and the challenge is the SHA-256 of the verifier the token endpoint receives', async (t) => {
  const idp = await startIdp(t)
  const exchanges: ExchangeRecord[] = []
  const proxy = await startFakeCognito(t, { token: forwardTo(idp.domain, '/oauth2/token', exchanges) })
  const app = await buildApp(t, idp, 'confidential', { domain: proxy.domain })
  const seenByBrowser: string[] = []

  const start = await app.inject({ url: '/login' })
  seenByBrowser.push(JSON.stringify(start.headers), start.body)
  const authorize = new URL(location(start))
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
  assert.equal(authorize.searchParams.has('code_verifier'), false)
  // The authorize request goes to the real IdP (the proxy only stands in for the back channel).
  const idpAuthorize = new URL(authorize.pathname + authorize.search, idp.domain)
  const jar = new CookieJar().store(start)
  const callbackUrl = await signInAtIdp(idp, idpAuthorize.href, 'alice', 'alice-password-1')
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  seenByBrowser.push(JSON.stringify(callback.headers), callback.body)
  assert.equal(callback.statusCode, 302)

  const verifier = exchanges[0]?.form.code_verifier ?? ''
  assert.match(verifier, /^[A-Za-z0-9_-]{43,128}$/, 'RFC 7636 verifier')
  assert.equal(createHash('sha256').update(verifier).digest('base64url'), authorize.searchParams.get('code_challenge'))
  assert.equal(seenByBrowser.some((text) => text.includes(verifier)), false, 'the verifier never reaches the browser in clear')
})
