import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { findUser, runningPool } from './local-cognito/context.js'
import type { CognitoDecorator } from '../types.js'

export interface CognitoLoginAsUser {
  username: string
  password: string
}

export interface CognitoLoginAsOptions {
  /** Cookies the "browser" already holds, as a Cookie header. */
  cookie?: string
}

type Jar = Map<string, string>

function keepCookies (jar: Jar, response: LightMyRequestResponse): void {
  for (const cookie of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
    const cleared = cookie.value === '' || cookie.maxAge === 0 || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now())
    if (cleared) jar.delete(cookie.name)
    else jar.set(cookie.name, cookie.value)
  }
}

function cookieHeader (jar: Jar): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

function parseCookieHeader (header: string | undefined): Jar {
  const jar: Jar = new Map()
  for (const pair of (header ?? '').split(';')) {
    const index = pair.indexOf('=')
    if (index > 0) jar.set(pair.slice(0, index).trim(), pair.slice(index + 1).trim())
  }
  return jar
}

function redirectOf (response: { status: number, location: string | null | undefined }, step: string): string {
  if (response.status !== 302 || typeof response.location !== 'string') {
    throw new Error(`fastify-cognito/testing: loginAs: ${step} answered ${response.status} instead of a redirect`)
  }
  return response.location
}

/** The password of `user`: given, or looked up in the local IdP (started in this process) the login goes to. */
function credentials (user: string | CognitoLoginAsUser, authorizeUrl: URL): CognitoLoginAsUser {
  if (typeof user !== 'string') return user
  const pool = runningPool(authorizeUrl.origin)
  if (pool === undefined) {
    throw new Error(`fastify-cognito/testing: loginAs: no local IdP of this process runs at ${authorizeUrl.origin}; pass { username, password }`)
  }
  const found = findUser(pool, user)
  if (found === undefined) throw new Error(`fastify-cognito/testing: loginAs: the local IdP has no user ${JSON.stringify(user)}`)
  if (found.identity !== undefined) {
    // Their sign-in goes through the provider's page, which the app's plain /login does not ask for.
    throw new Error(`fastify-cognito/testing: loginAs: ${JSON.stringify(user)} is a federated user; sign in through /oauth2/authorize?identity_provider=${found.identity.providerName}`)
  }
  return { username: found.username, password: found.password }
}

/**
 * Signs `user` in through the app's real login flow: `GET <prefix>/login` on the app (inject), the IdP's
 * authorize endpoint and sign-in form (HTTP), then the app's callback (inject). Resolves to the Cookie header
 * of the signed-in browser, for `app.inject({ headers: { cookie } })`. A username alone works with a
 * `startLocalCognito()` IdP of this process, which knows the password.
 */
export async function loginAs (app: FastifyInstance, user: string | CognitoLoginAsUser, options: CognitoLoginAsOptions = {}): Promise<string> {
  const cognito = (app as { cognito?: CognitoDecorator }).cognito
  if (cognito === undefined) throw new Error('fastify-cognito/testing: loginAs: register fastify-cognito on this app first')
  const jar = parseCookieHeader(options.cookie)

  let start = await app.inject({ url: cognito.loginPath, headers: { cookie: cookieHeader(jar) } })
  // An app whose redirect URI names another host than inject's (localhost) sends /login there first; a browser
  // follows, and so does this, with that host (the callback below goes there too).
  const first = start.headers.location
  let host: string | undefined
  if (start.statusCode === 302 && typeof first === 'string' && new URL(first, 'http://localhost').pathname === cognito.loginPath) {
    const target = new URL(first)
    host = target.host
    start = await app.inject({ url: target.pathname + target.search, headers: { cookie: cookieHeader(jar), host } })
  }
  keepCookies(jar, start)
  const authorizeUrl = new URL(redirectOf({ status: start.statusCode, location: start.headers.location as string | undefined }, `GET ${cognito.loginPath}`))
  const { username, password } = credentials(user, authorizeUrl)

  const authorize = await fetch(authorizeUrl, { redirect: 'manual' })
  const signInUrl = new URL(redirectOf({ status: authorize.status, location: authorize.headers.get('location') }, 'the IdP authorize endpoint'), authorizeUrl)
  const signIn = await fetch(signInUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
    redirect: 'manual'
  })
  if (signIn.status === 200) throw new Error(`fastify-cognito/testing: loginAs: the IdP refused the sign-in of ${JSON.stringify(username)}`)
  const callbackUrl = new URL(redirectOf({ status: signIn.status, location: signIn.headers.get('location') }, 'the IdP sign-in form'))

  const callback = await app.inject({ url: callbackUrl.pathname + callbackUrl.search, headers: { cookie: cookieHeader(jar), ...(host === undefined ? {} : { host }) } })
  if (callback.statusCode !== 302) {
    throw new Error(`fastify-cognito/testing: loginAs: the callback answered ${callback.statusCode}: ${callback.body}`)
  }
  keepCookies(jar, callback)
  return cookieHeader(jar)
}
