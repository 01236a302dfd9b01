import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { clientSecretBasic, CognitoClient, publicClient } from '../../lib/cognito/client.js'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import {
  CognitoIdpBadResponseError,
  CognitoInvalidClientError,
  CognitoInvalidGrantError,
  CognitoTokenRequestRejectedError
} from '../../lib/errors.js'
import { sendJson, startHttpServer, type ReceivedRequest } from '../helpers/http-server.js'

// Cognito's back-channel endpoints against a real loopback server that answers what each test asks of it.
const REDIRECT_URI = 'https://app.example.com/login/redirect'
const TOKENS = { access_token: 'access.token.value', id_token: 'id.token.value', refresh_token: 'refresh-token-value', expires_in: 3600, token_type: 'Bearer' }

type Answer = (request: ReceivedRequest, response: ServerResponse) => void

interface Harness {
  client: CognitoClient
  requests: ReceivedRequest[]
  /** What the server answers next, for every path. */
  answer: (handler: Answer) => void
}

async function harness (t: TestContext, clientSecret?: string, clientId = 'app-client'): Promise<Harness> {
  let current: Answer = (_request, response) => { sendJson(response, 200, TOKENS) }
  const server = await startHttpServer(t, (request, response) => { current(request, response) })
  const http = new CognitoHttpClient(2000)
  t.after(async () => { await http.close() })
  return {
    client: new CognitoClient(http, { domain: server.origin, clientId, clientSecret, redirectUri: REDIRECT_URI }),
    requests: server.requests,
    answer: (handler) => { current = handler }
  }
}

function form (request: ReceivedRequest | undefined): Record<string, string> {
  assert.ok(request)
  assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded')
  assert.equal(request.headers.accept, 'application/json')
  return Object.fromEntries(new URLSearchParams(request.body))
}

test('exchangeCode: the authorization-code grant with the PKCE verifier, as a public client', async (t) => {
  const { client, requests } = await harness(t)
  const tokens = await client.exchangeCode('the-code', 'the-verifier')
  assert.deepEqual(tokens, { accessToken: 'access.token.value', idToken: 'id.token.value', refreshToken: 'refresh-token-value', expiresIn: 3600 })
  assert.equal(requests[0]?.method, 'POST')
  assert.equal(requests[0]?.url, '/oauth2/token')
  assert.deepEqual(form(requests[0]), { grant_type: 'authorization_code', code: 'the-code', redirect_uri: REDIRECT_URI, code_verifier: 'the-verifier', client_id: 'app-client' })
  assert.equal(requests[0]?.headers.authorization, undefined, 'a public client sends no credentials')
})

test('a confidential client authenticates with HTTP Basic, both parts form-encoded first (RFC 6749 2.3.1)', async (t) => {
  const { client, requests } = await harness(t, 'se cret:+/%é', 'client+id')
  await client.refresh('the-refresh-token')
  const authorization = requests[0]?.headers.authorization ?? ''
  assert.match(authorization, /^Basic [A-Za-z0-9+/=]+$/)
  assert.equal(Buffer.from(authorization.slice(6), 'base64').toString(), 'client%2Bid:se+cret%3A%2B%2F%25%C3%A9')
  assert.deepEqual(form(requests[0]), { grant_type: 'refresh_token', refresh_token: 'the-refresh-token' }, 'no client_id in the body')
})

test('publicClient and clientSecretBasic are the two ways of authenticating', () => {
  const headers: Record<string, string> = {}
  const body = new URLSearchParams()
  publicClient('c1').apply(headers, body)
  assert.deepEqual([headers, body.toString()], [{}, 'client_id=c1'])
  const basicHeaders: Record<string, string> = {}
  const basicBody = new URLSearchParams()
  clientSecretBasic('c1', 's1').apply(basicHeaders, basicBody)
  assert.deepEqual([basicHeaders, basicBody.toString()], [{ authorization: `Basic ${Buffer.from('c1:s1').toString('base64')}` }, ''])
})

test('exchangeCode refuses an answer without a refresh token (502)', async (t) => {
  const { client, answer } = await harness(t)
  answer((_request, response) => { sendJson(response, 200, { ...TOKENS, refresh_token: undefined }) })
  await assert.rejects(client.exchangeCode('c', 'v'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'Cognito token endpoint answered the code exchange without a refresh_token' })
  answer((_request, response) => { sendJson(response, 200, { ...TOKENS, refresh_token: '' }) })
  await assert.rejects(client.exchangeCode('c', 'v'), CognitoIdpBadResponseError, 'an empty one counts as none')
})

test('refresh: the refresh-token grant; without rotation the answer has no refresh token', async (t) => {
  const { client, requests, answer } = await harness(t)
  answer((_request, response) => { sendJson(response, 200, { access_token: 'new.access.token', id_token: 'new.id.token', expires_in: 300, token_type: 'Bearer' }) })
  assert.deepEqual(await client.refresh('r-1'), { accessToken: 'new.access.token', idToken: 'new.id.token', refreshToken: undefined, expiresIn: 300 })
  assert.deepEqual(form(requests[0]), { grant_type: 'refresh_token', refresh_token: 'r-1', client_id: 'app-client' })
})

test('token answers are checked for shape: access_token, token_type, id_token, refresh_token', async (t) => {
  const { client, answer } = await harness(t)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ ...TOKENS, access_token: undefined }, 'Cognito token endpoint answered 200 without an access_token'],
    [{ ...TOKENS, access_token: '' }, 'Cognito token endpoint answered 200 without an access_token'],
    [{ ...TOKENS, access_token: 42 }, 'Cognito token endpoint answered 200 without an access_token'],
    [{ ...TOKENS, token_type: 'mac' }, 'Cognito token endpoint answered with a token_type other than Bearer'],
    [{ ...TOKENS, id_token: 42 }, 'Cognito token endpoint answered with a malformed id_token'],
    [{ ...TOKENS, refresh_token: ['r'] }, 'Cognito token endpoint answered with a malformed refresh_token']
  ]
  for (const [body, message] of cases) {
    answer((_request, response) => { sendJson(response, 200, body) })
    await assert.rejects(client.refresh('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', statusCode: 502, message }, JSON.stringify(body))
  }
  for (const body of ['<html>maintenance</html>', '[]', 'null']) {
    answer((_request, response) => { sendJson(response, 200, body) })
    await assert.rejects(client.refresh('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: /^Cognito token endpoint answered 200 with/ }, body)
  }
})

test('token answers: token_type in any case, empty id_token is none, a missing or odd expires_in is 3600', async (t) => {
  const { client, answer } = await harness(t)
  const cases: Array<[Record<string, unknown>, { idToken: string | undefined, expiresIn: number }]> = [
    [{ ...TOKENS, token_type: 'bearer', expires_in: 60 }, { idToken: 'id.token.value', expiresIn: 60 }],
    [{ ...TOKENS, token_type: undefined, id_token: '' }, { idToken: undefined, expiresIn: 3600 }],
    [{ ...TOKENS, id_token: undefined, expires_in: undefined }, { idToken: undefined, expiresIn: 3600 }],
    [{ ...TOKENS, expires_in: '3600' }, { idToken: 'id.token.value', expiresIn: 3600 }],
    [{ ...TOKENS, expires_in: 0 }, { idToken: 'id.token.value', expiresIn: 3600 }],
    [{ ...TOKENS, expires_in: -5 }, { idToken: 'id.token.value', expiresIn: 3600 }]
  ]
  for (const [body, expected] of cases) {
    answer((_request, response) => { sendJson(response, 200, body) })
    const tokens = await client.refresh('r')
    assert.deepEqual({ idToken: tokens.idToken, expiresIn: tokens.expiresIn }, expected, JSON.stringify(body))
  }
})

const OAUTH_ERRORS = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'unsupported_token_type', 'access_denied', 'server_error', 'temporarily_unavailable'
]

for (const error of OAUTH_ERRORS) {
  test(`OAuth error ${error} from every endpoint, whatever the 4xx status, becomes its typed error`, async (t) => {
    const { client, answer } = await harness(t, 'secret')
    const expected = error === 'invalid_grant'
      ? { type: CognitoInvalidGrantError, code: 'FST_COGNITO_INVALID_GRANT', statusCode: 400 }
      : error === 'invalid_client'
        ? { type: CognitoInvalidClientError, code: 'FST_COGNITO_INVALID_CLIENT', statusCode: 401 }
        : { type: CognitoTokenRequestRejectedError, code: 'FST_COGNITO_TOKEN_REQUEST_REJECTED', statusCode: 400 }
    for (const status of [400, 401, 403]) {
      answer((_request, response) => { sendJson(response, status, { error, error_description: 'described <b>here</b>' }) })
      for (const call of [() => client.exchangeCode('c', 'v'), () => client.refresh('r'), () => client.revoke('r')]) {
        await assert.rejects(call(), (thrown: Error & { code?: string, statusCode?: number, error?: string }) => {
          assert.ok(thrown instanceof expected.type)
          assert.equal(thrown.code, expected.code)
          assert.equal(thrown.statusCode, expected.statusCode)
          if (expected.type === CognitoTokenRequestRejectedError) assert.equal((thrown as { error?: string }).error, error)
          assert.doesNotMatch(thrown.message, /described/, 'the description is not quoted')
          return true
        }, `${status}`)
      }
    }
  })
}

test('an error answer that is no OAuth error is the IdP\'s fault (502), never quoted', async (t) => {
  const { client, answer } = await harness(t)
  const bodies = ['not json', '{}', 'null', '[]', JSON.stringify({ error: 42 }), JSON.stringify({ error: 'Invalid_Grant' }), JSON.stringify({ error: '<script>' }), JSON.stringify({ error: 'x'.repeat(65) })]
  for (const body of bodies) {
    answer((_request, response) => { sendJson(response, 400, body) })
    await assert.rejects(client.exchangeCode('c', 'v'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'Cognito token endpoint answered 400 without an OAuth error code' }, body)
    await assert.rejects(client.revoke('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'Cognito revoke endpoint answered 400 without an OAuth error code' }, body)
  }
})

test('a 5xx is a bad response (502) even when it carries an OAuth error', async (t) => {
  const { client, answer } = await harness(t)
  for (const status of [500, 502, 503]) {
    answer((_request, response) => { sendJson(response, status, { error: 'invalid_grant' }) })
    await assert.rejects(client.refresh('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: `Cognito token endpoint answered ${status}` })
    await assert.rejects(client.revoke('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: `Cognito revoke endpoint answered ${status}` })
  }
})

test('a redirect or other non-200 success is not taken for tokens', async (t) => {
  const { client, answer } = await harness(t)
  answer((_request, response) => { sendJson(response, 201, TOKENS) })
  await assert.rejects(client.refresh('r'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: 'Cognito token endpoint answered 201 without an OAuth error code' })
})

test('revoke: the token to /oauth2/revoke; 200 is done whatever the body', async (t) => {
  const { client, requests, answer } = await harness(t, 'secret')
  answer((_request, response) => { response.writeHead(200); response.end() })
  await client.revoke('refresh-token-value')
  assert.equal(requests[0]?.url, '/oauth2/revoke')
  assert.deepEqual(form(requests[0]), { token: 'refresh-token-value' })
  assert.match(requests[0]?.headers.authorization ?? '', /^Basic /)
})

test('fetchUserInfo: a GET with the access token; verified flags come back as booleans', async (t) => {
  const { client, requests, answer } = await harness(t)
  answer((_request, response) => {
    sendJson(response, 200, { sub: 'user-1', email: 'a@example.com', email_verified: 'false', phone_number_verified: 'true', 'custom:tenant': 'acme', name: 'true' })
  })
  assert.deepEqual(await client.fetchUserInfo('the-access-token'), {
    sub: 'user-1', email: 'a@example.com', email_verified: false, phone_number_verified: true, 'custom:tenant': 'acme', name: 'true'
  })
  assert.equal(requests[0]?.method, 'GET')
  assert.equal(requests[0]?.url, '/oauth2/userInfo')
  assert.equal(requests[0]?.headers.authorization, 'Bearer the-access-token')
  assert.equal(requests[0]?.headers.accept, 'application/json')
  answer((_request, response) => { sendJson(response, 200, { sub: 'user-1', email_verified: true, phone_number_verified: 'yes' }) })
  assert.deepEqual(await client.fetchUserInfo('t'), { sub: 'user-1', email_verified: true, phone_number_verified: 'yes' }, 'anything else is left as it is')
})

test('fetchUserInfo: 401 ends the session; any other status, or a body that is no JSON object, is a bad response', async (t) => {
  const { client, answer } = await harness(t)
  answer((_request, response) => { sendJson(response, 401, { error: 'invalid_token' }) })
  await assert.rejects(client.fetchUserInfo('t'), { code: 'FST_COGNITO_SESSION_EXPIRED', message: 'Cognito refused the access token at userInfo (revoked, or signed out everywhere): sign in again' })
  for (const status of [400, 403, 500]) {
    answer((_request, response) => { sendJson(response, status, { error: 'invalid_token' }) })
    await assert.rejects(client.fetchUserInfo('t'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: `Cognito userInfo endpoint answered ${status}` })
  }
  for (const body of ['<html/>', '["sub"]']) {
    answer((_request, response) => { sendJson(response, 200, body) })
    await assert.rejects(client.fetchUserInfo('t'), { code: 'FST_COGNITO_IDP_BAD_RESPONSE', message: /^Cognito userInfo endpoint answered 200 with/ })
  }
})

test('network faults keep their own types: a timeout is 504, an endpoint that is gone 503', async (t) => {
  // Real waiting (3 x 150 ms): the deadline is undici's own timer.
  const server = await startHttpServer(t, () => { /* never answers */ })
  const http = new CognitoHttpClient(150)
  t.after(async () => { await http.close() })
  const slow = new CognitoClient(http, { domain: server.origin, clientId: 'c', clientSecret: undefined, redirectUri: REDIRECT_URI })
  await assert.rejects(slow.exchangeCode('c', 'v'), { code: 'FST_COGNITO_IDP_TIMEOUT', message: 'Cognito token endpoint did not answer within 150 ms' })
  await assert.rejects(slow.revoke('r'), { code: 'FST_COGNITO_IDP_TIMEOUT', message: 'Cognito revoke endpoint did not answer within 150 ms' })
  await assert.rejects(slow.fetchUserInfo('t'), { code: 'FST_COGNITO_IDP_TIMEOUT', message: 'Cognito userInfo endpoint did not answer within 150 ms' })
  const gone = new CognitoClient(http, { domain: 'http://127.0.0.1:9', clientId: 'c', clientSecret: undefined, redirectUri: REDIRECT_URI })
  await assert.rejects(gone.refresh('r'), { code: 'FST_COGNITO_IDP_UNAVAILABLE', message: 'Cognito token endpoint could not be reached' })
})
