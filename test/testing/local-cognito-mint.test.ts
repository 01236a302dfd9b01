import assert from 'node:assert/strict'
import { createHmac, createPublicKey, verify } from 'node:crypto'
import { after, before, test } from 'node:test'
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import { PUBLIC_CLIENT, decodePart, login, userInfo } from './local-cognito-helpers.js'

let cognito: LocalCognito
let jwks: JWTVerifyGetKey

before(async () => {
  cognito = await startLocalCognito()
  jwks = createRemoteJWKSet(new URL(cognito.jwksUri))
})
after(async () => { await cognito.close() })

test('minted tokens look like issued ones and verify against the JWKS', async () => {
  const issued = await login(cognito, { scope: 'openid' })
  const access = await cognito.mintAccessToken('alice', PUBLIC_CLIENT)
  const verified = await jwtVerify(access, jwks, { issuer: cognito.issuer, algorithms: ['RS256'] })
  assert.deepEqual(Object.keys(verified.payload), Object.keys(decodePart(issued.access_token, 1)))
  assert.equal(verified.protectedHeader.kid, decodePart(issued.access_token, 0).kid)
  assert.equal(verified.payload.scope, 'openid email phone profile aws.cognito.signin.user.admin')
  assert.equal(verified.payload.client_id, PUBLIC_CLIENT)
  assert.equal((await userInfo(cognito, `Bearer ${access}`)).status, 200)

  const id = await cognito.mintIdToken('alice', PUBLIC_CLIENT, { nonce: 'n-9' })
  const idVerified = await jwtVerify(id, jwks, { issuer: cognito.issuer, audience: PUBLIC_CLIENT })
  assert.equal(idVerified.payload.nonce, 'n-9')
  assert.equal(idVerified.payload['cognito:username'], 'alice')
  assert.equal('at_hash' in idVerified.payload, false, 'no access token to hash')
  assert.equal(idVerified.protectedHeader.kid, decodePart(issued.id_token ?? '', 0).kid)
})

test('claim overrides merge over the defaults and undefined removes a claim', async () => {
  const access = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, {
    claims: { 'cognito:groups': undefined, token_use: 'id', client_id: 'another-client', 'custom:extra': 42 }
  })
  const { payload } = await jwtVerify(access, jwks)
  assert.equal('cognito:groups' in payload, false)
  assert.equal(payload.token_use, 'id')
  assert.equal(payload.client_id, 'another-client')
  assert.equal(payload['custom:extra'], 42)

  const forOtherApp = await cognito.mintIdToken('bob', 'some-other-app')
  await assert.rejects(jwtVerify(forOtherApp, jwks, { audience: PUBLIC_CLIENT }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  await assert.rejects(cognito.mintAccessToken('nobody', PUBLIC_CLIENT), /unknown user/)
})

test('a negative expiresInSeconds mints an already expired token', async () => {
  const access = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { expiresInSeconds: -60 })
  const claims = decodePart(access, 1)
  assert.equal(Number(claims.exp) - Number(claims.iat), -60)
  await assert.rejects(jwtVerify(access, jwks), { code: 'ERR_JWT_EXPIRED' })
  const short = decodePart(await cognito.mintIdToken('alice', PUBLIC_CLIENT, { expiresInSeconds: 5 }), 1)
  assert.equal(Number(short.exp) - Number(short.iat), 5)
})

test('header overrides: alg none, HS256 with the public key as secret, RS512, unknown kid, extra members', async () => {
  const none = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { alg: 'none' } })
  assert.equal(decodePart(none, 0).alg, 'none')
  assert.equal(none.split('.')[2], '')
  await assert.rejects(jwtVerify(none, jwks))

  const hs = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { alg: 'HS256' } })
  const header = decodePart(hs, 0)
  assert.equal(header.alg, 'HS256')
  await assert.rejects(jwtVerify(hs, jwks, { algorithms: ['RS256'] }))
  // The algorithm-confusion attack: an HMAC keyed with the pool's public key in PEM form.
  const { keys } = await (await fetch(cognito.jwksUri)).json() as { keys: Array<{ kid: string }> }
  const jwk = keys.find(key => key.kid === header.kid)
  assert.ok(jwk !== undefined)
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString()
  const [h, p, s] = hs.split('.')
  assert.equal(createHmac('sha256', pem).update(`${h ?? ''}.${p ?? ''}`).digest('base64url'), s)

  // Really signed with RS512 by the access key, yet the JWKS pins that key to RS256, so JWKS-based verification refuses it.
  const rs512 = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { alg: 'RS512' } })
  await assert.rejects(jwtVerify(rs512, jwks, { algorithms: ['RS256'] }), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' })
  await assert.rejects(jwtVerify(rs512, jwks, { algorithms: ['RS512'] }), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  const [rh, rp, rs] = rs512.split('.')
  const accessJwk = keys.find(key => key.kid === decodePart(rs512, 0).kid)
  assert.ok(accessJwk !== undefined)
  const accessKey = createPublicKey({ key: accessJwk, format: 'jwk' })
  assert.ok(verify('sha512', Buffer.from(`${rh ?? ''}.${rp ?? ''}`), accessKey, Buffer.from(rs ?? '', 'base64url')))

  const unknownKid = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { kid: 'not-a-pool-key=' } })
  await assert.rejects(jwtVerify(unknownKid, jwks), { code: 'ERR_JWKS_NO_MATCHING_KEY' })

  const typed = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { typ: 'at+jwt' } })
  assert.deepEqual(Object.keys(decodePart(typed, 0)), ['kid', 'alg', 'typ'])
  await jwtVerify(typed, jwks)

  // A kid naming the other pool key signs with that key, so the token still verifies.
  const idKid = decodePart(await cognito.mintIdToken('alice', PUBLIC_CLIENT), 0).kid
  const crossSigned = await cognito.mintAccessToken('alice', PUBLIC_CLIENT, { header: { kid: idKid } })
  assert.equal((await jwtVerify(crossSigned, jwks)).protectedHeader.kid, idKid)
})
