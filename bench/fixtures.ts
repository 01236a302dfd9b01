/**
 * What the benchmark needs before any load: a local Cognito-compatible IdP (it also serves the JWKS the plugin
 * servers prefetch at onReady), Cognito-shaped access tokens, and a real browser session made by a real login.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import fastifySecureSession from '@fastify/secure-session'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import { createClient, type RedisClientType } from 'redis'
import fastifyCognito from '../lib/index.js'
import { redisStore } from '../lib/redis/index.js'
import { startLocalCognito, type LocalCognito } from '../lib/testing/index.js'
import { CLIENT_ID, COGNITO_ISSUER, REDIRECT_URI, SESSION_SECRET, USER_POOL_ID } from './common.js'

/** 40 groups with long names, a long e-mail and custom attributes: a session at the size real apps see. */
const MANY_GROUPS = Array.from({ length: 40 }, (_, i) => `department-${String(i).padStart(2, '0')}-readers-and-writers`)

export interface Fixtures {
  idp: LocalCognito
  jwks: { keys: Array<Record<string, unknown>> }
  accessKid: string
  /** A 1.1 KB access token of alice (two groups) with a real Cognito issuer. */
  bearerToken: string
  /** Distinct tokens like bearerToken, for the "always-new" scenario and the verification micro-benchmark. */
  tokenPool: string[]
  /** A client-credentials (machine) access token of the same client, with a custom scope and the real issuer. */
  machineToken: string
  /** The Cookie header of a real session of carol (40 groups, 1.8 KB refresh token), made by a login. */
  sessionCookie: string
  /** The Cookie header of a real session of alice (2 groups): what most users carry. */
  smallSessionCookie: string
  /** With a Redis: the Cookie header (`cognito_sid` alone) of a real session of carol (40 groups) kept on that Redis. */
  storeSessionCookie?: string
  /** A @fastify/secure-session cookie holding a session of the same size, and its key (hex). */
  secureSessionCookie: string
  secureSessionKey: string
  close: () => Promise<void>
}

/** Cognito refresh tokens are ~1.8 KB JWEs; this one has the same shape and size. */
export function refreshTokenLike (): string {
  const part = (bytes: number): string => randomBytes(bytes).toString('base64url')
  return ['eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ', part(256), part(12), part(1000), part(16)].join('.')
}

/** OIDC at_hash of an access token. */
export function atHash (accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url')
}

export async function startIdp (): Promise<LocalCognito> {
  return await startLocalCognito({
    userPoolId: USER_POOL_ID,
    users: [
      { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', groups: ['admin', 'editor'] },
      {
        username: 'carol',
        password: 'carol-password-1',
        email: 'carol.with.a.rather.long.address@subsidiary.example.com',
        groups: MANY_GROUPS,
        attributes: { 'custom:tenant': 'acme-corporation-emea', 'custom:roles': 'reader,writer,approver' }
      }
    ],
    clients: [{ clientId: CLIENT_ID, callbackUrls: [REDIRECT_URI] }]
  })
}

function location (response: { headers: Record<string, unknown> } | Response): string {
  const value = response instanceof Response ? response.headers.get('location') : response.headers.location
  if (typeof value !== 'string') throw new Error('expected a redirect')
  return value
}

function cookieHeader (response: LightMyRequestResponse, prefix?: string): string {
  return (response.cookies as Array<{ name: string, value: string }>)
    .filter((cookie) => cookie.value !== '' && (prefix === undefined || cookie.name.startsWith(prefix)))
    .map((cookie) => `${cookie.name}=${cookie.value}`)
    .join('; ')
}

/**
 * The whole browser login of `username` against an app with the plugin: /login, the IdP's form, the callback. With
 * `redisUrl` the app keeps its sessions on that Redis (`sessionStore: redisStore({ client })`), and the browser gets
 * the `cognito_sid` ticket cookie instead of the session chunks; every app of the benchmark with the same client id,
 * secret and Redis then reads that session.
 */
async function loginCookie (idp: LocalCognito, username: string, redisUrl?: string): Promise<string> {
  const app = Fastify()
  let client: RedisClientType | undefined
  if (redisUrl !== undefined) {
    client = createClient({ url: redisUrl })
    client.on('error', () => {})
    await client.connect()
  }
  try {
    await app.register(fastifyCognito, {
      userPoolId: USER_POOL_ID,
      clientId: CLIENT_ID,
      domain: idp.domain,
      issuer: idp.issuer,
      redirectUri: REDIRECT_URI,
      sessionSecret: SESSION_SECRET,
      ...(client === undefined ? {} : { sessionStore: redisStore({ client }) })
    })
    await app.ready()
    const start = await app.inject({ url: '/login' })
    const authorize = await fetch(location(start), { redirect: 'manual' })
    const form = new URL(location(authorize), idp.domain)
    const signIn = await fetch(form, { method: 'POST', body: new URLSearchParams({ username, password: `${username}-password-1` }), redirect: 'manual' })
    const callback = new URL(location(signIn))
    const response = await app.inject({ url: callback.pathname + callback.search, headers: { cookie: cookieHeader(start) } })
    if (response.statusCode !== 302) throw new Error(`the login callback answered ${response.statusCode}: ${response.body}`)
    const cookie = cookieHeader(response, client === undefined ? 'cognito_session.' : STORE_COOKIE)
    if (cookie === '') throw new Error('the login set no session cookie')
    return cookie
  } finally {
    await app.close()
    if (client?.isOpen === true) await client.close()
  }
}

/** The ticket cookie of a server-side store session (cookie name `cognito`, not secure: `cognito_sid`). */
export const STORE_COOKIE = 'cognito_sid'

async function secureSessionCookie (idp: LocalCognito): Promise<{ cookie: string, key: string }> {
  const key = randomBytes(32)
  const app = Fastify()
  await app.register(fastifySecureSession, { key, cookieName: 'session', cookie: { path: '/' } })
  await app.ready()
  const now = Math.floor(Date.now() / 1000)
  const accessToken = await idp.mintAccessToken('carol', CLIENT_ID)
  const session = app.createSecureSession({
    data: {
      v: 1,
      sid: randomBytes(32).toString('base64url'),
      sub: idp.users.find((user) => user.username === 'carol')?.sub,
      accessToken,
      idToken: await idp.mintIdToken('carol', CLIENT_ID, { claims: { at_hash: atHash(accessToken) } }),
      refreshToken: refreshTokenLike(),
      expiresAt: now + 3600,
      createdAt: now
    }
  })
  const value = app.encodeSecureSession(session)
  await app.close()
  return { cookie: `session=${encodeURIComponent(value)}`, key: key.toString('hex') }
}

export async function createFixtures (poolSize: number, { redisUrl }: { redisUrl?: string | undefined } = {}): Promise<Fixtures> {
  const idp = await startIdp()
  const jwks = await (await fetch(idp.jwksUri)).json() as { keys: Array<Record<string, unknown>> }
  const mint = async (): Promise<string> => await idp.mintAccessToken('alice', CLIENT_ID, { claims: { iss: COGNITO_ISSUER } })
  const bearerToken = await mint()
  const accessKid = (JSON.parse(Buffer.from(bearerToken.split('.')[0] as string, 'base64url').toString()) as { kid: string }).kid
  const tokenPool: string[] = []
  for (let i = 0; i < poolSize; i++) tokenPool.push(await mint())
  const machineToken = await idp.mintMachineToken(CLIENT_ID, { scopes: ['orders/read'], claims: { iss: COGNITO_ISSUER } })
  const sessionCookie = await loginCookie(idp, 'carol')
  const smallSessionCookie = await loginCookie(idp, 'alice')
  const secure = await secureSessionCookie(idp)
  const storeSessionCookie = redisUrl === undefined ? undefined : await loginCookie(idp, 'carol', redisUrl)
  return {
    idp,
    jwks,
    accessKid,
    bearerToken,
    tokenPool,
    machineToken,
    sessionCookie,
    smallSessionCookie,
    ...(storeSessionCookie === undefined ? {} : { storeSessionCookie }),
    secureSessionCookie: secure.cookie,
    secureSessionKey: secure.key,
    close: async () => { await idp.close() }
  }
}

/** A fresh event id per token keeps minted tokens distinct; exported for the memory benchmark's synthetic tokens. */
export const uuid = randomUUID
