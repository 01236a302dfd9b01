import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET, PUBLIC_CLIENT, manualClock, pkcePair, signIn, startCognito, token
} from './local-cognito-helpers.js'

const ODD_SECRET = 'p+s/w:r%d é&='
let cognito: LocalCognito

before(async () => {
  cognito = await startLocalCognito({
    clients: [
      { clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK, 'http://localhost:3000/other'] },
      { clientId: CONFIDENTIAL_CLIENT, clientSecret: CONFIDENTIAL_SECRET, callbackUrls: [CALLBACK] },
      { clientId: 'odd-client', clientSecret: ODD_SECRET, callbackUrls: [CALLBACK] }
    ]
  })
})

after(async () => { await cognito.close() })

async function codeFor (clientId = PUBLIC_CLIENT, redirectUri = CALLBACK): Promise<{ code: string, verifier: string }> {
  const { verifier, challenge } = pkcePair()
  const { code } = await signIn(cognito, { clientId, redirectUri, challenge, method: 'S256', scope: 'openid' })
  return { code, verifier }
}

function exchangeFields (code: string, verifier?: string, redirectUri = CALLBACK): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    client_id: PUBLIC_CLIENT,
    code,
    redirect_uri: redirectUri,
    ...(verifier !== undefined ? { code_verifier: verifier } : {})
  }
}

function assertError (answer: { status: number, body: Record<string, unknown> }, status: number, error: string, message?: string): void {
  assert.equal(answer.status, status, message)
  assert.deepEqual(answer.body, { error }, message)
}

test('PKCE: a wrong or a missing code_verifier is invalid_grant', async () => {
  const wrong = await codeFor()
  assertError(await token(cognito, exchangeFields(wrong.code, pkcePair().verifier)), 400, 'invalid_grant')
  const missing = await codeFor()
  assertError(await token(cognito, exchangeFields(missing.code)), 400, 'invalid_grant')
})

test('a code is single use, even when the exchange failed after the lookup', async () => {
  const used = await codeFor()
  assert.equal((await token(cognito, exchangeFields(used.code, used.verifier))).status, 200)
  assertError(await token(cognito, exchangeFields(used.code, used.verifier)), 400, 'invalid_grant')

  const burnt = await codeFor()
  assertError(await token(cognito, exchangeFields(burnt.code, 'x'.repeat(43))), 400, 'invalid_grant')
  assertError(await token(cognito, exchangeFields(burnt.code, burnt.verifier)), 400, 'invalid_grant')
  assertError(await token(cognito, exchangeFields('no-such-code', burnt.verifier)), 400, 'invalid_grant')
})

test('failed client authentication is answered before the code is looked at, so the code survives', async () => {
  const { code, verifier } = await codeFor(CONFIDENTIAL_CLIENT)
  const fields = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }
  assertError(await token(cognito, fields, { basic: [CONFIDENTIAL_CLIENT, 'wrong-secret'] }), 400, 'invalid_client')
  assertError(await token(cognito, { ...fields, client_id: CONFIDENTIAL_CLIENT }), 400, 'invalid_client')
  assertError(await token(cognito, { ...fields, client_id: CONFIDENTIAL_CLIENT, client_secret: 'nope' }), 400, 'invalid_client')
  const ok = await token(cognito, fields, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] })
  assert.equal(ok.status, 200, ok.text)
})

test('redirect_uri must equal the one sent to authorize (unauthorized_client), and the code must belong to the client', async () => {
  const other = await codeFor(PUBLIC_CLIENT, 'http://localhost:3000/other')
  assertError(await token(cognito, exchangeFields(other.code, other.verifier, CALLBACK)), 400, 'unauthorized_client')
  assertError(await token(cognito, exchangeFields(other.code, other.verifier, 'http://localhost:3000/other')), 400, 'invalid_grant', 'the code is spent')
  const slash = await codeFor()
  assertError(await token(cognito, exchangeFields(slash.code, slash.verifier, `${CALLBACK}/`)), 400, 'unauthorized_client')

  const confidential = await codeFor(CONFIDENTIAL_CLIENT)
  assertError(await token(cognito, exchangeFields(confidential.code, confidential.verifier)), 400, 'invalid_grant')

  const { code, verifier } = await codeFor()
  const { redirect_uri: _dropped, ...withoutRedirect } = exchangeFields(code, verifier)
  assertError(await token(cognito, withoutRedirect), 400, 'invalid_request')
})

test('a code expires after five minutes', async (t) => {
  const clock = manualClock()
  const timed = await startCognito(t, { now: clock.now })
  const { verifier, challenge } = pkcePair()
  const first = await signIn(timed, { challenge, method: 'S256' })
  clock.advance(299)
  assert.equal((await token(timed, exchangeFields(first.code, verifier))).status, 200)
  const second = await signIn(timed, { challenge, method: 'S256' })
  clock.advance(300)
  assertError(await token(timed, exchangeFields(second.code, verifier)), 400, 'invalid_grant')
})

test('client authentication rules: public clients present no secret, confidential ones exactly one', async () => {
  const fields = { grant_type: 'refresh_token', refresh_token: 'whatever' }
  assertError(await token(cognito, fields, { basic: [PUBLIC_CLIENT, ''] }), 400, 'invalid_client')
  assertError(await token(cognito, { ...fields, client_id: PUBLIC_CLIENT, client_secret: 'x' }), 400, 'invalid_client')
  assertError(await token(cognito, { ...fields, client_id: 'unknown-client' }), 400, 'invalid_client')
  assertError(await token(cognito, fields), 400, 'invalid_client')
  assertError(await token(cognito, fields, { headers: { authorization: 'Basic !!!' } }), 400, 'invalid_client')
  assertError(await token(cognito, fields, { headers: { authorization: 'Bearer abc' } }), 400, 'invalid_client')
  assertError(
    await token(cognito, { ...fields, client_id: 'odd-client' }, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] }),
    400, 'invalid_client'
  )
  assertError(
    await token(cognito, { ...fields, client_secret: CONFIDENTIAL_SECRET }, { basic: [CONFIDENTIAL_CLIENT, CONFIDENTIAL_SECRET] }),
    400, 'invalid_request'
  )
  // Authenticated fine, so the refresh token itself is what fails: Basic credentials are form-urlencoded (RFC 6749 2.3.1).
  assertError(await token(cognito, fields, { basic: ['odd-client', ODD_SECRET] }), 400, 'invalid_grant')
  assertError(await token(cognito, { ...fields, client_id: 'odd-client', client_secret: ODD_SECRET }), 400, 'invalid_grant')
})

test('grant types and content types are answered like Cognito', async () => {
  const client = { client_id: PUBLIC_CLIENT }
  assertError(await token(cognito, client), 400, 'invalid_request')
  assertError(await token(cognito, { ...client, grant_type: 'password' }), 400, 'unsupported_grant_type')
  assertError(await token(cognito, { ...client, grant_type: 'client_credentials' }), 400, 'unauthorized_client')
  assertError(await token(cognito, { ...client, grant_type: 'refresh_token' }), 400, 'invalid_request')
  assertError(await token(cognito, { ...client, grant_type: 'authorization_code' }), 400, 'invalid_request')

  const json = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...client, grant_type: 'authorization_code', code: 'x', redirect_uri: CALLBACK })
  })
  assert.equal(json.status, 400)
  assert.equal(json.headers.get('access-control-allow-origin'), '*')
  assert.deepEqual(await json.json(), { error: 'invalid_request' })

  const repeated = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    body: `client_id=${PUBLIC_CLIENT}&grant_type=refresh_token&grant_type=authorization_code`
  })
  assert.deepEqual([repeated.status, await repeated.json()], [400, { error: 'invalid_request' }])
})

test('malformed input never produces a 5xx', async () => {
  const { domain } = cognito
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const attempts: Array<[string, RequestInit]> = [
    [`${domain}/oauth2/token`, { method: 'POST', headers: form, body: '%zz=%%&grant_type=%E0%A4%A' }],
    [`${domain}/oauth2/token`, { method: 'POST', headers: form, body: new Uint8Array([0, 255, 254, 10, 13]) }],
    [`${domain}/oauth2/token`, { method: 'POST', headers: form, body: 'a='.padEnd(2 * 1024 * 1024, 'x') }],
    [`${domain}/oauth2/token`, { method: 'POST', headers: { ...form, authorization: 'Basic ' + 'A'.repeat(5000) }, body: 'grant_type=refresh_token' }],
    [`${domain}/oauth2/token`, { method: 'GET' }],
    [`${domain}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'token=x' }],
    [`${domain}/oauth2/userInfo`, { headers: { authorization: 'Bearer a.b.c' } }],
    [`${domain}/oauth2/userInfo`, { headers: { authorization: 'Bearer ' + 'e'.repeat(3000) } }],
    [`${domain}/oauth2/authorize?client_id=%E0%A4%A&redirect_uri=%`, {}],
    [`${domain}/oauth2/authorize?client_id=${PUBLIC_CLIENT}&client_id=${PUBLIC_CLIENT}&redirect_uri=${encodeURIComponent(CALLBACK)}`, {}],
    [`${domain}/login`, { method: 'POST', headers: form, body: 'username=alice' }],
    [`${domain}/logout?client_id=${PUBLIC_CLIENT}&logout_uri=%`, {}],
    [`${domain}/nowhere`, {}]
  ]
  for (const [url, init] of attempts) {
    const response = await fetch(url, { ...init, redirect: 'manual' })
    await response.arrayBuffer()
    assert.ok(response.status >= 400 && response.status < 500, `${init.method ?? 'GET'} ${url.slice(0, 80)} answered ${response.status}`)
  }
})
