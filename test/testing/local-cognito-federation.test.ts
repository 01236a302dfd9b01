import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import {
  CALLBACK, PUBLIC_CLIENT, authorizeUrl, decodePart, formBody, get, locationOf, pkcePair, token, userInfo
} from './local-cognito-helpers.js'

const POOL = 'eu-west-1_FEDpool'
const CREATED = Date.UTC(2024, 0, 2, 3, 4, 5)
let cognito: LocalCognito

before(async () => {
  cognito = await startLocalCognito({
    region: 'eu-west-1',
    userPoolId: POOL,
    identityProviders: [
      {
        name: 'Google',
        user: { id: '1234567890', sub: 'f0000000-0000-4000-8000-000000000001', email: 'gina@gmail.example', groups: ['beta'], dateCreated: CREATED }
      },
      {
        name: 'CorpSAML',
        providerType: 'SAML',
        issuer: 'urn:corp:idp',
        user: { id: 'gina@corp.example', emailVerified: true, email: 'gina@corp.example', attributes: { 'custom:dept': 'ops' } }
      }
    ],
    clients: [{ clientId: PUBLIC_CLIENT, callbackUrls: [CALLBACK] }]
  })
})
after(async () => { await cognito.close() })

interface FederatedSignIn { tokens: Record<string, unknown>, cookie: string }

/** authorize with identity_provider, the provider's page, its button, then the code exchange. */
async function federatedSignIn (provider: string, scope = 'openid email profile'): Promise<FederatedSignIn> {
  const { verifier, challenge } = pkcePair()
  const toProvider = await get(authorizeUrl(cognito, { scope, state: 'st', challenge, method: 'S256', extra: { identity_provider: provider } }))
  const pageUrl = locationOf(toProvider)
  assert.equal(pageUrl.pathname, '/federated-sign-in')
  const page = await get(pageUrl.href)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /<form name="federatedSignInForm" method="post"/)
  const posted = await fetch(pageUrl, { method: 'POST', redirect: 'manual' })
  const callback = locationOf(posted)
  assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK)
  assert.equal(callback.searchParams.get('state'), 'st')
  const cookie = posted.headers.getSetCookie().find(value => value.startsWith('cognito='))?.split(';')[0]
  assert.ok(cookie !== undefined, 'federated sign-in starts the managed-login session too')
  const answer = await token(cognito, {
    grant_type: 'authorization_code', client_id: PUBLIC_CLIENT, code: callback.searchParams.get('code') ?? '', redirect_uri: CALLBACK, code_verifier: verifier
  })
  assert.equal(answer.status, 200, answer.text)
  return { tokens: answer.body, cookie }
}

const GOOGLE_IDENTITIES = [{
  userId: '1234567890', providerName: 'Google', providerType: 'Google', issuer: null, primary: 'true', dateCreated: String(CREATED)
}]

test('identity_provider=Google signs the configured user in with Cognito\'s federated claims', async () => {
  const before = cognito.requests.federatedLogin
  const { tokens } = await federatedSignIn('Google')
  assert.equal(cognito.requests.federatedLogin, before + 2, 'the page and its button')
  const access = decodePart(String(tokens.access_token), 1)
  const id = decodePart(String(tokens.id_token), 1)
  assert.equal(access.username, 'Google_1234567890')
  assert.equal(access.sub, 'f0000000-0000-4000-8000-000000000001')
  assert.deepEqual(access['cognito:groups'], ['beta', `${POOL}_Google`])
  assert.equal(id['cognito:username'], 'Google_1234567890')
  assert.deepEqual(id['cognito:groups'], ['beta', `${POOL}_Google`])
  assert.deepEqual(id.identities, GOOGLE_IDENTITIES)
  assert.equal(id.email, 'gina@gmail.example')
  assert.equal('email_verified' in id, false, 'only mapped attributes exist; nothing defaults to verified')
  assert.equal(id.sub, access.sub)
})

test('a SAML provider: providerType, issuer and attributes as configured', async () => {
  const { tokens } = await federatedSignIn('CorpSAML')
  const id = decodePart(String(tokens.id_token), 1)
  assert.equal(id['cognito:username'], 'CorpSAML_gina@corp.example')
  assert.deepEqual(id['cognito:groups'], [`${POOL}_CorpSAML`])
  assert.equal(id.email_verified, true)
  assert.equal(id['custom:dept'], 'ops')
  const [identity] = id.identities as Array<Record<string, unknown>>
  assert.deepEqual({ ...identity, dateCreated: 'x' }, {
    userId: 'gina@corp.example', providerName: 'CorpSAML', providerType: 'SAML', issuer: 'urn:corp:idp', primary: 'true', dateCreated: 'x'
  })
  assert.match(String(identity?.dateCreated), /^\d{13}$/, 'milliseconds, as a string')
  const provider = cognito.identityProviders.find(candidate => candidate.name === 'CorpSAML')
  assert.equal(String(provider?.user.dateCreated), identity?.dateCreated)
  assert.match(provider?.user.sub ?? '', /^[0-9a-f-]{36}$/)
})

test('a refresh keeps the federated claims; userInfo answers for the federated user', async () => {
  const { tokens } = await federatedSignIn('Google')
  const refreshed = await token(cognito, { grant_type: 'refresh_token', client_id: PUBLIC_CLIENT, refresh_token: String(tokens.refresh_token) })
  assert.equal(refreshed.status, 200)
  const access = decodePart(String(refreshed.body.access_token), 1)
  const id = decodePart(String(refreshed.body.id_token), 1)
  assert.equal(access.username, 'Google_1234567890')
  assert.deepEqual(access['cognito:groups'], ['beta', `${POOL}_Google`])
  assert.equal(id['cognito:username'], 'Google_1234567890')
  assert.deepEqual(id['cognito:groups'], ['beta', `${POOL}_Google`])
  assert.deepEqual(id.identities, GOOGLE_IDENTITIES)

  const info = await userInfo(cognito, `Bearer ${String(refreshed.body.access_token)}`)
  assert.equal(info.status, 200)
  assert.equal(info.body.username, 'Google_1234567890')
  assert.equal(info.body.sub, access.sub)
  assert.equal(info.body.email, 'gina@gmail.example')
  assert.deepEqual(JSON.parse(String(info.body.identities)), GOOGLE_IDENTITIES, 'userInfo carries identities as a JSON string')
})

test('the federated session cookie serves later authorize requests; prompt=none with the provider needs it', async () => {
  const { cookie } = await federatedSignIn('Google')
  const silent = locationOf(await get(authorizeUrl(cognito, { extra: { identity_provider: 'Google', prompt: 'none' } }), { cookie }))
  assert.ok(silent.searchParams.get('code') !== null)
  const plain = locationOf(await get(authorizeUrl(cognito), { cookie }))
  assert.ok(plain.searchParams.get('code') !== null, 'no page at all within the hour')
  const otherProvider = locationOf(await get(authorizeUrl(cognito, { extra: { identity_provider: 'CorpSAML', prompt: 'none' } }), { cookie }))
  assert.equal(otherProvider.searchParams.get('error'), 'login_required', 'the session belongs to another provider\'s user')
  const noSession = locationOf(await get(authorizeUrl(cognito, { extra: { identity_provider: 'Google', prompt: 'none' } })))
  assert.equal(noSession.searchParams.get('error'), 'login_required')
})

test('unknown providers keep their error; COGNITO means the sign-in form; the form links every provider', async () => {
  const unknown = locationOf(await get(authorizeUrl(cognito, { state: 'u', extra: { identity_provider: 'Facebook' } })))
  assert.deepEqual([unknown.searchParams.get('error'), unknown.searchParams.get('state')], ['invalid_request', 'u'])
  const local = locationOf(await get(authorizeUrl(cognito, { extra: { identity_provider: 'COGNITO' } })))
  assert.equal(local.pathname, '/login')

  const html = await (await get(local.href)).text()
  const hrefs = [...html.matchAll(/<a class="idpButton" data-provider="([^"]+)" href="([^"]+)"/g)]
  assert.deepEqual(hrefs.map(match => match[1]), ['Google', 'CorpSAML'])
  const google = new URL((hrefs[0]?.[2] ?? '').replace(/&amp;/g, '&'), cognito.domain)
  assert.equal(google.pathname, '/oauth2/authorize')
  assert.equal(google.searchParams.get('identity_provider'), 'Google')
  assert.equal(google.searchParams.get('client_id'), PUBLIC_CLIENT)
  assert.equal(locationOf(await get(google.href)).pathname, '/federated-sign-in')
})

test('the provider page re-checks its query and a federated user cannot use the password form', async () => {
  const direct = await fetch(`${cognito.domain}/federated-sign-in?${new URLSearchParams({ client_id: PUBLIC_CLIENT, redirect_uri: CALLBACK, response_type: 'code' }).toString()}`, { method: 'POST', redirect: 'manual' })
  assert.equal(direct.status, 400, 'no identity_provider: an error page')
  const evil = await fetch(`${cognito.domain}/federated-sign-in?${new URLSearchParams({ client_id: PUBLIC_CLIENT, redirect_uri: 'http://evil.example/cb', response_type: 'code', identity_provider: 'Google' }).toString()}`, { method: 'POST', redirect: 'manual' })
  assert.equal(evil.status, 400)
  assert.equal(evil.headers.get('location'), null)

  const form = locationOf(await get(authorizeUrl(cognito)))
  for (const password of ['', 'anything']) {
    const refused = await fetch(form, { method: 'POST', redirect: 'manual', ...formBody({ username: 'Google_1234567890', password }) })
    assert.equal(refused.status, 200)
    assert.match(await refused.text(), /Incorrect username or password\./)
  }
})

test('mintAccessToken and mintIdToken accept a federated username', async () => {
  const access = decodePart(await cognito.mintAccessToken('Google_1234567890', PUBLIC_CLIENT), 1)
  assert.deepEqual(access['cognito:groups'], ['beta', `${POOL}_Google`])
  const id = decodePart(await cognito.mintIdToken('google_1234567890', PUBLIC_CLIENT), 1)
  assert.deepEqual(id.identities, GOOGLE_IDENTITIES)
})

test('invalid identity providers are refused at start', async () => {
  const user = { id: '1' }
  await assert.rejects(startLocalCognito({ identityProviders: [{ name: 'COGNITO', user }] }), /invalid identity provider name/)
  await assert.rejects(startLocalCognito({ identityProviders: [{ name: '_x', user }] }), /invalid identity provider name/)
  await assert.rejects(startLocalCognito({ identityProviders: [{ name: 'Google', user }, { name: 'Google', user }] }), /duplicate identity provider/)
  await assert.rejects(startLocalCognito({ identityProviders: [{ name: 'Google', user: { id: '' } }] }), /needs a user with an id/)
  await assert.rejects(startLocalCognito({ identityProviders: [{ name: 'Google', user: { id: '1', attributes: { identities: '[]' } } }] }), /reserved attribute identities/)
  await assert.rejects(startLocalCognito({
    users: [{ username: 'google_1', password: 'p' }],
    identityProviders: [{ name: 'Google', user }]
  }), /duplicate username/)
})
