import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CALLBACK, PUBLIC_CLIENT, pkcePair, signIn, startCognito } from './local-cognito-helpers.js'

const APP_ORIGIN = 'http://localhost:8080'

test('a browser public client (Swagger UI doing PKCE) can exchange its code: preflight and answer allow any origin', async (t) => {
  const cognito = await startCognito(t)
  const preflight = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'OPTIONS',
    headers: { origin: APP_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' }
  })
  assert.equal(preflight.status, 204)
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST')
  const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(',').map(name => name.trim())
  // Swagger UI's token request sends X-Requested-With.
  assert.deepEqual(allowed.sort(), ['authorization', 'content-type', 'x-requested-with'])
  assert.equal(cognito.requests.token, 0, 'a preflight is not a token request')

  const { verifier, challenge } = pkcePair()
  const { code } = await signIn(cognito, { challenge, method: 'S256' })
  const exchange = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: { origin: APP_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code, redirect_uri: CALLBACK, code_verifier: verifier }).toString()
  })
  assert.equal(exchange.status, 200)
  assert.equal(exchange.headers.get('access-control-allow-origin'), '*')

  const failed = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST', headers: { origin: APP_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token'
  })
  assert.deepEqual([failed.status, failed.headers.get('access-control-allow-origin')], [400, '*'], 'errors are readable by the page too')
  const tooLarge = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST', headers: { origin: APP_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(2 * 1024 * 1024, 'x')
  })
  assert.deepEqual([tooLarge.status, tooLarge.headers.get('access-control-allow-origin')], [413, '*'], 'framework-level failures as well')
})
