import { before, after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createPublicKey, createSign, generateKeyPairSync } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCognito from '../../lib/index.js'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'
import { CLIENT_IDS, OTHER_CLIENT_ID, pluginOptions, REDIRECT_URI } from '../helpers/app.js'

// One IdP and one app for the whole file: every case is a single guarded request.
let idp: LocalCognito
let app: FastifyInstance
let good: string
let kid: string

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const parts = (token: string): [string, string, string] => token.split('.') as [string, string, string]
const mint = async (overrides: Parameters<LocalCognito['mintAccessToken']>[2] = {}): Promise<string> => await idp.mintAccessToken('alice', CLIENT_IDS.public, overrides)

before(async () => {
  idp = await startLocalCognito({
    users: [{ username: 'alice', password: 'alice-password-1', groups: ['admin'] }],
    clients: [{ clientId: CLIENT_IDS.public, callbackUrls: [REDIRECT_URI] }, { clientId: OTHER_CLIENT_ID, callbackUrls: [REDIRECT_URI] }]
  })
  app = Fastify()
  await app.register(fastifyCognito, pluginOptions(idp, 'public', { logoutUri: undefined }))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ sub: request.user?.sub }))
  await app.ready()
  good = await mint()
  kid = (JSON.parse(Buffer.from(parts(good)[0], 'base64url').toString()) as { kid: string }).kid
})

after(async () => {
  await app.close()
  await idp.close()
})

async function assertRefused (token: string, code = 'FST_COGNITO_INVALID_TOKEN'): Promise<void> {
  const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })
  assert.equal(response.statusCode, 401)
  assert.equal(response.json().code, code)
  assert.match(response.headers['www-authenticate'] as string, /^Bearer error="invalid_token"/)
  assert.equal(response.body.includes(parts(token)[2] || token), false, 'the token is not echoed')
}

test('control: the untouched token is accepted', async () => {
  assert.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${good}` } })).statusCode, 200)
})

test('an ID token sent as the access token', async () => {
  await assertRefused(await idp.mintIdToken('alice', CLIENT_IDS.public))
})

test('an access token of another app client (client_id)', async () => {
  await assertRefused(await idp.mintAccessToken('alice', OTHER_CLIENT_ID))
})

test('an access token of another user pool (iss)', async () => {
  await assertRefused(await mint({ claims: { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1234' } }))
})

test('token_use id on an access-token-shaped token', async () => {
  await assertRefused(await mint({ claims: { token_use: 'id' } }))
})

test('a token signed by a key not in the JWKS (same kid)', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const input = `${b64({ alg: 'RS256', kid })}.${parts(good)[1]}`
  await assertRefused(`${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`)
})

test('a token with an unknown kid', async () => {
  await assertRefused(await mint({ header: { kid: 'not-a-pool-key=' } }))
})

test('alg none with an empty signature', async () => {
  await assertRefused(`${b64({ alg: 'none', kid })}.${parts(good)[1]}.`)
})

test('alg none without a signature part', async () => {
  await assertRefused(`${b64({ alg: 'none' })}.${parts(good)[1]}`)
})

test('HS256 signed with the RSA public key as the secret (algorithm confusion)', async () => {
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: Array<{ kid: string }> }
  const pem = createPublicKey({ key: jwks.keys.find((key) => key.kid === kid) as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
  const input = `${b64({ alg: 'HS256', kid })}.${parts(good)[1]}`
  await assertRefused(`${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`)
})

test('RS512 when only RS256 is allowed', async () => {
  await assertRefused(await mint({ header: { alg: 'RS512' } }))
})

test('PS256 when only RS256 is allowed', async () => {
  await assertRefused(await mint({ header: { alg: 'PS256' } }))
})

test('a critical header extension', async () => {
  await assertRefused(await mint({ header: { crit: ['exp'] } }))
})

test('a token without exp', async () => {
  await assertRefused(await mint({ claims: { exp: undefined } }))
})

test('a token expired beyond the clock tolerance', async () => {
  await assertRefused(await mint({ expiresInSeconds: -6 }), 'FST_COGNITO_TOKEN_EXPIRED')
})

test('a token expired within the clock tolerance (5 s) is still accepted', async () => {
  assert.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${await mint({ expiresInSeconds: -2 })}` } })).statusCode, 200)
})

test('a token issued in the future', async () => {
  await assertRefused(await mint({ claims: { iat: Math.floor(Date.now() / 1000) + 3600 } }))
})

test('a token not valid before a future nbf', async () => {
  await assertRefused(await mint({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }))
})

test('a valid signature over a modified payload', async () => {
  const claims = JSON.parse(Buffer.from(parts(good)[1], 'base64url').toString()) as Record<string, unknown>
  await assertRefused(`${parts(good)[0]}.${b64({ ...claims, 'cognito:groups': ['admin', 'root'] })}.${parts(good)[2]}`)
})

test('a signature moved from another valid token', async () => {
  const other = await mint({ claims: { username: 'alice2' } })
  await assertRefused(`${parts(good)[0]}.${parts(good)[1]}.${parts(other)[2]}`)
})

test('a token stuffed with 10,000 groups', async () => {
  await assertRefused(await mint({ claims: { 'cognito:groups': Array.from({ length: 10_000 }, (_, i) => `group-${i}`) } }))
})

test('a token with 200 KB of claims', async () => {
  await assertRefused(await mint({ claims: { filler: 'x'.repeat(200_000) } }))
})

test('cognito:groups that is not a list of strings', async () => {
  await assertRefused(await mint({ claims: { 'cognito:groups': 'admin' } }))
})

test('a token without sub', async () => {
  await assertRefused(await mint({ claims: { sub: undefined } }))
})

test('a header that is not JSON', async () => {
  await assertRefused(`${Buffer.from('{not json').toString('base64url')}.${parts(good)[1]}.${parts(good)[2]}`)
})

test('a token with characters outside base64url', async () => {
  await assertRefused(`${parts(good)[0]}.${parts(good)[1]}+.${parts(good)[2]}`)
})

test('a token with four parts', async () => {
  await assertRefused(`${good}.extra`)
})
