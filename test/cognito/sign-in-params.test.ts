import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AUTHORIZATION_PARAM_RULES, pickAuthorizationParams } from '../../lib/cognito/sign-in-params.js'

test('the allow-list is exactly the sign-in parameters Cognito takes besides the OAuth ones', () => {
  assert.deepEqual(Object.keys(AUTHORIZATION_PARAM_RULES).sort(), ['identity_provider', 'idp_identifier', 'lang', 'login_hint', 'prompt'])
})

test('well-formed values of allowed parameters pass', () => {
  const picked = pickAuthorizationParams({
    identity_provider: 'Google',
    idp_identifier: 'example.com',
    lang: 'pt-BR',
    login_hint: 'alice@example.com',
    prompt: 'select_account'
  })
  assert.deepEqual(picked, { identity_provider: 'Google', idp_identifier: 'example.com', lang: 'pt-BR', login_hint: 'alice@example.com', prompt: 'select_account' })
  assert.deepEqual(pickAuthorizationParams({ identity_provider: 'My SAML IdP' }), { identity_provider: 'My SAML IdP' }, 'provider names may hold spaces')
  for (const prompt of ['login', 'none', 'select_account', 'consent']) assert.deepEqual(pickAuthorizationParams({ prompt }), { prompt })
})

test('every other parameter is dropped', () => {
  assert.deepEqual(pickAuthorizationParams({
    redirect_uri: 'https://evil.example/cb',
    client_id: 'other',
    scope: 'aws.cognito.signin.user.admin',
    response_type: 'token',
    state: 's',
    code_challenge_method: 'plain',
    returnTo: '/x'
  }), {})
})

test('malformed values are dropped, one by one', () => {
  const cases: Record<string, unknown[]> = {
    identity_provider: ['', 'a&b=c', 'x'.repeat(65), '<script>', 'Google\n'],
    idp_identifier: ['', 'with space', 'x'.repeat(129), 'a/b'],
    lang: ['', 'EN', 'english', 'de_DE', '<script>', 'e'],
    login_hint: ['', 'two words', 'x'.repeat(255), 'a;b'],
    prompt: ['', 'evil', 'LOGIN', 'login consent']
  }
  for (const [name, values] of Object.entries(cases)) {
    for (const value of values) assert.deepEqual(pickAuthorizationParams({ [name]: value }), {}, `${name}=${JSON.stringify(value)}`)
  }
})

test('only strings are taken: arrays (a repeated query parameter), numbers and objects are dropped', () => {
  assert.deepEqual(pickAuthorizationParams({ lang: ['de', 'fr'], prompt: ['login'], login_hint: 42, identity_provider: { name: 'Google' }, idp_identifier: undefined }), {})
})

test('the longest allowed values pass', () => {
  assert.deepEqual(pickAuthorizationParams({ identity_provider: 'x'.repeat(64) }), { identity_provider: 'x'.repeat(64) })
  assert.deepEqual(pickAuthorizationParams({ idp_identifier: 'x'.repeat(128) }), { idp_identifier: 'x'.repeat(128) })
  assert.deepEqual(pickAuthorizationParams({ login_hint: 'x'.repeat(254) }), { login_hint: 'x'.repeat(254) })
})
