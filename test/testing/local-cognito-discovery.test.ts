import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose'
import { decodePart, login, startCognito, userInfo } from './local-cognito-helpers.js'

interface Jwks { keys: Array<Record<string, unknown>> }

async function fetchJwks (jwksUri: string): Promise<Jwks> {
  const response = await fetch(jwksUri)
  assert.equal(response.status, 200)
  return await response.json() as Jwks
}

test('discovery lives under the issuer and names the endpoints on the domain, as Cognito', async (t) => {
  const cognito = await startCognito(t)
  assert.match(cognito.domain, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.equal(cognito.region, 'us-east-1')
  assert.equal(cognito.userPoolId, 'us-east-1_LOCALpool')
  assert.match(cognito.userPoolId, /^us-east-1_[0-9a-zA-Z]{9}$/)
  assert.equal(cognito.issuer, `${cognito.domain}/us-east-1_LOCALpool`)
  assert.equal(cognito.jwksUri, `${cognito.issuer}/.well-known/jwks.json`)

  const response = await fetch(`${cognito.issuer}/.well-known/openid-configuration`)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  const { domain, issuer } = cognito
  assert.deepEqual(await response.json(), {
    authorization_endpoint: `${domain}/oauth2/authorize`,
    end_session_endpoint: `${domain}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${domain}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${domain}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${domain}/oauth2/userInfo`
  })
  assert.equal(cognito.requests.discovery, 1)
  assert.equal((await fetch(`${domain}/.well-known/openid-configuration`)).status, 404)
})

test('region and userPoolId options shape the issuer path', async (t) => {
  const byRegion = await startCognito(t, { region: 'eu-central-1' })
  assert.equal(byRegion.userPoolId, 'eu-central-1_LOCALpool')
  const explicit = await startCognito(t, { region: 'eu-west-1', userPoolId: 'eu-west-1_AbCdEfGhI' })
  assert.equal(explicit.issuer, `${explicit.domain}/eu-west-1_AbCdEfGhI`)
  const response = await fetch(`${explicit.issuer}/.well-known/openid-configuration`)
  assert.equal(((await response.json()) as { issuer: string }).issuer, explicit.issuer)
  assert.equal((await fetch(`${explicit.domain}/us-east-1_LOCALpool/.well-known/jwks.json`)).status, 404)
})

test('JWKS holds two RS256 signing keys with padded base64 kids; ID and access tokens use different ones', async (t) => {
  const cognito = await startCognito(t)
  const { keys } = await fetchJwks(cognito.jwksUri)
  assert.equal(keys.length, 2)
  for (const key of keys) {
    assert.deepEqual(Object.keys(key).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
    assert.equal(key.kty, 'RSA')
    assert.equal(key.alg, 'RS256')
    assert.equal(key.use, 'sig')
    assert.equal(key.e, 'AQAB')
    assert.equal(Buffer.from(String(key.n), 'base64url').length, 256, 'RSA-2048 modulus')
    assert.match(String(key.kid), /^[A-Za-z0-9+/]{43}=$/)
  }
  const kids = keys.map(key => key.kid)
  assert.notEqual(kids[0], kids[1])

  const tokens = await login(cognito, { scope: 'openid' })
  const accessKid = decodePart(tokens.access_token, 0).kid
  const idKid = decodePart(tokens.id_token ?? '', 0).kid
  assert.ok(kids.includes(accessKid) && kids.includes(idKid))
  assert.notEqual(accessKid, idKid)
  assert.equal(cognito.requests.jwks, 1)
})

test('setJwksAvailable(false) makes jwks.json answer 503 until switched back', async (t) => {
  const cognito = await startCognito(t)
  cognito.setJwksAvailable(false)
  assert.equal((await fetch(cognito.jwksUri)).status, 503)
  assert.equal((await fetch(cognito.jwksUri)).status, 503)
  cognito.setJwksAvailable(true)
  assert.equal((await fetchJwks(cognito.jwksUri)).keys.length, 2)
  assert.equal(cognito.requests.jwks, 3)
  // Discovery is not affected by the JWKS fault.
  assert.equal((await fetch(`${cognito.issuer}/.well-known/openid-configuration`)).status, 200)
})

test('rotateKeys replaces both kids: earlier tokens stop verifying and userInfo refuses them', async (t) => {
  const cognito = await startCognito(t)
  const before = await login(cognito)
  const oldKids = (await fetchJwks(cognito.jwksUri)).keys.map(key => key.kid)
  await jwtVerify(before.access_token, createRemoteJWKSet(new URL(cognito.jwksUri)), { issuer: cognito.issuer })

  await cognito.rotateKeys()
  const jwks = await fetchJwks(cognito.jwksUri)
  const newKids = jwks.keys.map(key => key.kid)
  assert.equal(newKids.length, 2)
  assert.ok(newKids.every(kid => !oldKids.includes(kid)))

  const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0])
  await assert.rejects(jwtVerify(before.access_token, keySet), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  assert.equal((await userInfo(cognito, `Bearer ${before.access_token}`)).status, 401)

  const after = await login(cognito)
  const { payload } = await jwtVerify(after.access_token, keySet, { issuer: cognito.issuer })
  assert.equal(payload.token_use, 'access')
  assert.equal((await userInfo(cognito, `Bearer ${after.access_token}`)).status, 200)
})
