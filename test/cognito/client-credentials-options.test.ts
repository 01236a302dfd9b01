import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveClientCredentialsOptions } from '../../lib/cognito/client-credentials.js'
import { CognitoInvalidOptionError } from '../../lib/errors.js'

const SECRET = 'options-test-secret-9b8e1f'
const VALID = { clientId: 'machine', clientSecret: SECRET, domain: 'https://x.auth.eu-west-1.amazoncognito.com' }

test('defaults: every allowed scope (no scope parameter), refreshSkew 60; the domain without its trailing slash', () => {
  assert.deepEqual(resolveClientCredentialsOptions({ ...VALID, domain: `${VALID.domain}/` }), {
    ...VALID, scopes: undefined, refreshSkew: 60
  })
})

test('scopes are kept in order without repeats, frozen; undefined options are left out', () => {
  const resolved = resolveClientCredentialsOptions({
    ...VALID, scopes: ['orders/read', 'https://api.example.com/admin', 'orders/read'], refreshSkew: 0
  })
  assert.deepEqual(resolved.scopes, ['orders/read', 'https://api.example.com/admin'])
  assert.equal(resolved.refreshSkew, 0)
  assert.ok(Object.isFrozen(resolved) && Object.isFrozen(resolved.scopes))
  assert.deepEqual(resolveClientCredentialsOptions({ ...VALID, scopes: undefined, refreshSkew: undefined }).refreshSkew, 60)
  assert.equal(resolveClientCredentialsOptions({ ...VALID, domain: 'http://127.0.0.1:9229' }).domain, 'http://127.0.0.1:9229', 'http on loopback')
})

test('each invalid option is named, and the secret appears in no message', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...VALID, domain: undefined }, 'domain', /is required/],
    [{ ...VALID, domain: 'x.auth.eu-west-1.amazoncognito.com' }, 'domain', /absolute URL/],
    [{ ...VALID, domain: 'http://x.auth.eu-west-1.amazoncognito.com' }, 'domain', /https/],
    [{ ...VALID, domain: 'https://x.auth.eu-west-1.amazoncognito.com/oauth2/token' }, 'domain', /without a path/],
    [{ ...VALID, domain: 'https://x.auth.eu-west-1.amazoncognito.com?a=1' }, 'domain', /query/],
    [{ ...VALID, domain: `https://machine:${SECRET}@x.auth.eu-west-1.amazoncognito.com` }, 'domain', /credentials/],
    [{ ...VALID, clientId: undefined }, 'clientId', /is required/],
    [{ ...VALID, clientId: 'has space' }, 'clientId', /letters, digits/],
    [{ ...VALID, clientSecret: undefined }, 'clientSecret', /is required/],
    [{ ...VALID, clientSecret: '' }, 'clientSecret', /non-empty string/],
    [{ ...VALID, clientSecret: 42 }, 'clientSecret', /non-empty string/],
    [{ ...VALID, scopes: [] }, 'scopes', /non-empty array/],
    [{ ...VALID, scopes: 'orders/read' }, 'scopes', /array/],
    [{ ...VALID, scopes: ['orders/read', 7] }, 'scopes', /invalid scope 7/],
    [{ ...VALID, scopes: ['orders/read write'] }, 'scopes', /invalid scope/],
    [{ ...VALID, scopes: ['openid'] }, 'scopes', /"openid", which is not a custom scope/],
    [{ ...VALID, scopes: ['orders/'] }, 'scopes', /not a custom scope/],
    [{ ...VALID, scopes: ['/read'] }, 'scopes', /not a custom scope/],
    [{ ...VALID, refreshSkew: -1 }, 'refreshSkew', />= 0/],
    [{ ...VALID, refreshSkew: 1.5 }, 'refreshSkew', /whole number/],
    [{ ...VALID, refreshSkew: '60' }, 'refreshSkew', /whole number/]
  ]
  for (const [raw, option, problem] of cases) {
    assert.throws(() => resolveClientCredentialsOptions(raw), (error: unknown) => {
      assert.ok(error instanceof CognitoInvalidOptionError, option)
      assert.equal(error.code, 'FST_COGNITO_INVALID_OPTION')
      assert.match(error.message, new RegExp(`^fastify-cognito: clientCredentials option "${option}" `))
      assert.match(error.message, problem)
      assert.equal(`${error.message}\n${error.stack ?? ''}`.includes(SECRET), false, `no secret in the ${option} error`)
      return true
    })
  }
})

test('no options at all', () => {
  for (const raw of [undefined, null, 'machine', []]) {
    assert.throws(() => resolveClientCredentialsOptions(raw), { code: 'FST_COGNITO_INVALID_OPTION', message: 'fastify-cognito: clientCredentials options are required' })
  }
})
