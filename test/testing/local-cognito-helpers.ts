import { createHash, randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { startLocalCognito, type LocalCognito, type LocalCognitoOptions } from '../../lib/testing/index.js'

export const PUBLIC_CLIENT = 'local-public-client'
export const CONFIDENTIAL_CLIENT = 'local-confidential-client'
export const CONFIDENTIAL_SECRET = 'local-confidential-client-secret'
export const CALLBACK = 'http://localhost:3000/login/redirect'

/** Starts a pool that closes when the test ends. */
export async function startCognito (t: Pick<TestContext, 'after'>, options?: LocalCognitoOptions): Promise<LocalCognito> {
  const cognito = await startLocalCognito(options)
  t.after(async () => { await cognito.close() })
  return cognito
}

export function pkcePair (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export interface AuthorizeInput {
  clientId?: string
  redirectUri?: string
  responseType?: string
  scope?: string
  state?: string
  nonce?: string
  challenge?: string
  method?: string
  extra?: Record<string, string>
}

export function authorizeUrl (cognito: LocalCognito, input: AuthorizeInput = {}): string {
  const query = new URLSearchParams({
    client_id: input.clientId ?? PUBLIC_CLIENT,
    redirect_uri: input.redirectUri ?? CALLBACK,
    response_type: input.responseType ?? 'code'
  })
  if (input.scope !== undefined) query.set('scope', input.scope)
  if (input.state !== undefined) query.set('state', input.state)
  if (input.nonce !== undefined) query.set('nonce', input.nonce)
  if (input.challenge !== undefined) query.set('code_challenge', input.challenge)
  if (input.method !== undefined) query.set('code_challenge_method', input.method)
  for (const [name, value] of Object.entries(input.extra ?? {})) query.set(name, value)
  return `${cognito.domain}/oauth2/authorize?${query.toString()}`
}

export async function get (url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers })
}

export function locationOf (response: Response): URL {
  const location = response.headers.get('location')
  if (location === null) throw new Error(`expected a redirect, got ${response.status}`)
  return new URL(location)
}

export function formBody (fields: Record<string, string>): { body: string, headers: Record<string, string> } {
  return { body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }
}

export interface SignInResult {
  code: string
  state: string | null
  /** `cognito=<value>`, ready for a Cookie header. */
  cookie: string
  /** The whole Set-Cookie header, attributes included. */
  setCookie: string
  callback: URL
}

/** GET authorize, follow to /login, POST the credentials, read the code off the callback redirect. */
export async function signIn (
  cognito: LocalCognito,
  input: AuthorizeInput & { username?: string, password?: string } = {}
): Promise<SignInResult> {
  const toLogin = await get(authorizeUrl(cognito, input))
  if (toLogin.status !== 302) throw new Error(`authorize answered ${toLogin.status}`)
  const loginUrl = locationOf(toLogin)
  const username = input.username ?? 'alice'
  const password = input.password ?? (username === 'bob' ? 'bob-password-1' : 'alice-password-1')
  const posted = await fetch(loginUrl, { method: 'POST', redirect: 'manual', ...formBody({ username, password }) })
  if (posted.status !== 302) throw new Error(`POST /login answered ${posted.status}`)
  const callback = locationOf(posted)
  const setCookie = posted.headers.getSetCookie().find(value => value.startsWith('cognito='))
  const code = callback.searchParams.get('code')
  const cookie = setCookie?.split(';')[0]
  if (code === null || setCookie === undefined || cookie === undefined) throw new Error('sign-in gave no code or no cookie')
  return { code, state: callback.searchParams.get('state'), cookie, setCookie, callback }
}

export interface JsonResponse {
  status: number
  headers: Headers
  // Tests inspect arbitrary members of OAuth answers.
  body: Record<string, unknown>
  text: string
}

export async function postForm (
  url: string,
  fields: Record<string, string>,
  options: { basic?: [string, string], headers?: Record<string, string> } = {}
): Promise<JsonResponse> {
  const form = formBody(fields)
  const headers: Record<string, string> = { ...form.headers, ...options.headers }
  if (options.basic !== undefined) {
    const [id, secret] = options.basic.map(value => encodeURIComponent(value))
    headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
  }
  const response = await fetch(url, { method: 'POST', body: form.body, headers })
  const text = await response.text()
  let body: Record<string, unknown> = {}
  if (text !== '' && response.headers.get('content-type')?.includes('json') === true) body = JSON.parse(text)
  return { status: response.status, headers: response.headers, body, text }
}

export async function token (
  cognito: LocalCognito,
  fields: Record<string, string>,
  options?: { basic?: [string, string], headers?: Record<string, string> }
): Promise<JsonResponse> {
  return postForm(`${cognito.domain}/oauth2/token`, fields, options)
}

export interface Tokens {
  access_token: string
  id_token?: string
  refresh_token: string
  expires_in: number
  token_type: string
}

/** The whole public-client code flow with PKCE; returns the token response. */
export async function login (
  cognito: LocalCognito,
  input: AuthorizeInput & { username?: string, password?: string } = {}
): Promise<Tokens> {
  const { verifier, challenge } = pkcePair()
  const clientId = input.clientId ?? PUBLIC_CLIENT
  const redirectUri = input.redirectUri ?? CALLBACK
  const { code } = await signIn(cognito, { ...input, challenge, method: 'S256' })
  const answer = await token(cognito, {
    grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: redirectUri, code_verifier: verifier
  })
  if (answer.status !== 200) throw new Error(`token answered ${answer.status} ${answer.text}`)
  return answer.body as unknown as Tokens
}

export function decodePart (jwt: string, index: 0 | 1): Record<string, unknown> {
  const part = jwt.split('.')[index]
  if (part === undefined) throw new Error('not a JWT')
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
}

/** A clock the test moves by hand. */
export function manualClock (start = Date.UTC(2030, 0, 1)): { now: () => number, advance: (seconds: number) => void } {
  let current = start
  return { now: () => current, advance: (seconds) => { current += seconds * 1000 } }
}

export async function userInfo (cognito: LocalCognito, authorization: string | undefined): Promise<JsonResponse> {
  const response = await fetch(`${cognito.domain}/oauth2/userInfo`, {
    headers: authorization === undefined ? {} : { authorization }
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text), text }
}

export async function revoke (
  cognito: LocalCognito,
  fields: Record<string, string>,
  options?: { basic?: [string, string] }
): Promise<JsonResponse> {
  return postForm(`${cognito.domain}/oauth2/revoke`, fields, options)
}
