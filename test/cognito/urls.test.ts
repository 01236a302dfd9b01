import { test } from 'node:test'
import assert from 'node:assert/strict'
import { authorizeUrl, logoutUrl, revokeEndpoint, tokenEndpoint, userInfoEndpoint } from '../../lib/cognito/urls.js'

test('authorizeUrl carries every code-flow parameter, S256 only', () => {
  const url = new URL(authorizeUrl({
    domain: 'https://auth.example.com',
    clientId: 'client1',
    redirectUri: 'https://app.example.com/login/redirect',
    scopes: ['openid', 'email', 'orders/read'],
    state: 'st',
    nonce: 'no',
    codeChallenge: 'ch'
  }))
  assert.equal(url.origin + url.pathname, 'https://auth.example.com/oauth2/authorize')
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    response_type: 'code',
    client_id: 'client1',
    redirect_uri: 'https://app.example.com/login/redirect',
    scope: 'openid email orders/read',
    state: 'st',
    nonce: 'no',
    code_challenge: 'ch',
    code_challenge_method: 'S256'
  })
})

test('authorizeUrl leaves out nonce when there is none and adds extra parameters', () => {
  const url = new URL(authorizeUrl({
    domain: 'https://auth.example.com', clientId: 'c', redirectUri: 'https://a/cb', scopes: ['orders/read'], state: 's', codeChallenge: 'x', extra: { identity_provider: 'Google' }
  }))
  assert.equal(url.searchParams.has('nonce'), false)
  assert.equal(url.searchParams.get('identity_provider'), 'Google')
})

test('back-channel endpoints sit on the domain', () => {
  assert.equal(tokenEndpoint('https://auth.example.com'), 'https://auth.example.com/oauth2/token')
  assert.equal(revokeEndpoint('https://auth.example.com'), 'https://auth.example.com/oauth2/revoke')
  assert.equal(userInfoEndpoint('https://auth.example.com'), 'https://auth.example.com/oauth2/userInfo')
})

test('logoutUrl uses client_id and logout_uri (Cognito, not RP-initiated logout)', () => {
  const url = new URL(logoutUrl('https://auth.example.com', 'c1', 'https://app.example.com/?bye=1'))
  assert.equal(url.pathname, '/logout')
  assert.equal(url.searchParams.get('client_id'), 'c1')
  assert.equal(url.searchParams.get('logout_uri'), 'https://app.example.com/?bye=1')
})
