import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import fastifyCognito, { type CognitoCommonOptions, type CognitoSinglePoolOptions } from '../../lib/index.js'
import { startLocalCognito, type LocalCognito, type LocalCognitoOptions } from '../../lib/testing/index.js'

export const APP_ORIGIN = 'http://localhost:3000'
export const REDIRECT_URI = `${APP_ORIGIN}/login/redirect`
export const LOGOUT_URI = `${APP_ORIGIN}/`
export const SECURE_REDIRECT_URI = 'https://app.example.com/login/redirect'
export const SESSION_SECRET = 'test-session-secret-with-at-least-32-chars'
export const CONFIDENTIAL_SECRET = 'confidential-client-secret-0123456789'

export type ClientMode = 'public' | 'confidential'
export const CLIENT_IDS: Record<ClientMode, string> = { public: 'test-public-client', confidential: 'test-confidential-client' }
/** An app client id the plugin under test is not configured for. */
export const OTHER_CLIENT_ID = 'another-app-client'
/** 40 long group names: a session that spans several cookie chunks. */
export const MANY_GROUPS = Array.from({ length: 40 }, (_, i) => `department-${String(i).padStart(2, '0')}-readers-and-writers`)

export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** `value` with the character at `at` changed (A <-> B): a tampered cookie or token of the same length. */
export function flipCharacter (value: string, at = 10): string {
  return value.slice(0, at) + (value[at] === 'A' ? 'B' : 'A') + value.slice(at + 1)
}

/** A Fastify logger that keeps every line it writes, for tests that read the logs. */
export function capturingLogger (level = 'trace'): { logger: { level: string, stream: { write: (line: string) => void } }, lines: string[] } {
  const lines: string[] = []
  return { logger: { level, stream: { write: (line: string) => { lines.push(line) } } }, lines }
}

/** A local Cognito with one public and one confidential app client, alice (admin, editor) and bob (no group). */
export async function startIdp (t: TestContext, overrides: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const callbackUrls = [REDIRECT_URI, SECURE_REDIRECT_URI]
  const idp = await startLocalCognito({
    resourceServers: [{ identifier: 'orders', scopes: ['read', 'write'] }],
    users: [
      { username: 'alice', password: 'alice-password-1', email: 'alice@example.com', groups: ['admin', 'editor'] },
      { username: 'bob', password: 'bob-password-1', email: 'bob@example.com' }
    ],
    clients: [
      { clientId: CLIENT_IDS.public, callbackUrls, logoutUrls: [LOGOUT_URI] },
      { clientId: CLIENT_IDS.confidential, clientSecret: CONFIDENTIAL_SECRET, callbackUrls, logoutUrls: [LOGOUT_URI] }
    ],
    ...overrides
  })
  t.after(async () => { await idp.close() })
  return idp
}

/** The options of a single-pool registration with browser sign-in, as most tests use. */
export type TestOptions = CognitoCommonOptions & CognitoSinglePoolOptions

export function pluginOptions (idp: LocalCognito, mode: ClientMode, overrides: Partial<TestOptions> = {}): TestOptions {
  return {
    userPoolId: idp.userPoolId,
    clientId: CLIENT_IDS[mode],
    ...(mode === 'confidential' ? { clientSecret: CONFIDENTIAL_SECRET } : {}),
    domain: idp.domain,
    issuer: idp.issuer,
    redirectUri: REDIRECT_URI,
    logoutUri: LOGOUT_URI,
    sessionSecret: SESSION_SECRET,
    ...overrides
  }
}

/** An app with the plugin and a few guarded routes, closed after the test. */
export async function buildApp (t: TestContext, idp: LocalCognito, mode: ClientMode = 'public', overrides: Partial<TestOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.after(async () => { await app.close() })
  await app.register(fastifyCognito, pluginOptions(idp, mode, overrides))
  app.get('/me', { preHandler: app.cognito.requireAuth() }, async (request) => ({ user: request.user, tokenPayload: request.tokenPayload }))
  app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin', 'editor'] }) }, async () => ({ ok: 'admin' }))
  app.get('/edit', { preHandler: app.cognito.requireAuth({ groups: ['admin', 'publisher'], anyGroup: true }) }, async () => ({ ok: 'edit' }))
  app.get('/orders', { preHandler: app.cognito.requireAuth({ scopes: ['orders/read'] }) }, async () => ({ ok: 'orders' }))
  app.get('/public', async (request) => ({ user: request.user, tokenPayload: request.tokenPayload }))
  await app.ready()
  return app
}

/** Keeps the cookies a browser would keep, from inject responses. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  store (response: LightMyRequestResponse): this {
    for (const cookie of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      const expired = cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now()) || cookie.value === ''
      if (expired) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
    return this
  }

  get header (): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  clone (): CookieJar {
    const copy = new CookieJar()
    for (const [name, value] of this.cookies) copy.cookies.set(name, value)
    return copy
  }
}

/** The session cookie chunks (`cognito_session.N`) of a jar, in order. */
export function sessionChunks (jar: CookieJar): Array<[string, string]> {
  return [...jar.cookies].filter(([name]) => name.startsWith('cognito_session.')).sort()
}

export function location (response: { headers: Record<string, unknown> }): string {
  const value = response.headers.location
  if (typeof value !== 'string') throw new Error(`expected a redirect, got no location (status ${String((response as { statusCode?: number }).statusCode)})`)
  return value
}

/** Signs in at the local IdP's form, as a browser would, and returns the callback URL Cognito sends back. */
export async function signInAtIdp (idp: LocalCognito, authorizeUrl: string, username: string, password: string): Promise<URL> {
  const authorize = await fetch(authorizeUrl, { redirect: 'manual' })
  const form = new URL(location({ headers: Object.fromEntries(authorize.headers) }), idp.domain)
  const signIn = await fetch(form, {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
    redirect: 'manual'
  })
  if (signIn.status !== 302) throw new Error(`sign-in failed with status ${signIn.status}`)
  return new URL(location({ headers: Object.fromEntries(signIn.headers) }))
}

export interface LoginResult {
  jar: CookieJar
  callback: LightMyRequestResponse
  callbackUrl: URL
  /** The jar as it was just before the callback (holds the login transaction). */
  jarBeforeCallback: CookieJar
}

/** The whole browser login: /login -> IdP form -> /login/redirect, cookies kept in a jar. */
export async function login (
  app: FastifyInstance,
  idp: LocalCognito,
  { username = 'alice', password = `${username}-password-1`, returnTo, jar = new CookieJar() }: { username?: string, password?: string, returnTo?: string, jar?: CookieJar } = {}
): Promise<LoginResult> {
  const path = '/login' + (returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(returnTo)}`)
  let start = await app.inject({ url: path, headers: { cookie: jar.header } })
  if (start.statusCode !== 302) throw new Error(`/login answered ${start.statusCode}: ${start.body}`)
  // An app whose redirect URI names another host sends /login there first, as a browser would follow it.
  const first = new URL(location(start))
  if (first.pathname === '/login' && first.host !== new URL(idp.domain).host) {
    start = await app.inject({ url: first.pathname + first.search, headers: { cookie: jar.header, host: first.host } })
  }
  jar.store(start)
  const callbackUrl = await signInAtIdp(idp, location(start), username, password)
  const jarBeforeCallback = jar.clone()
  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: jar.header } })
  jar.store(callback)
  return { jar, callback, callbackUrl, jarBeforeCallback }
}
