import { createHash, hkdfSync } from 'node:crypto'
import { CognitoInvalidOptionError } from './errors.js'
import { COOKIE_CHUNK_LENGTH, DEFAULT_SESSION_COOKIE_BUDGET, MAX_SESSION_COOKIE_BUDGET } from './session/cookie-store.js'
import { isSafeReturnTo } from './util/return-to.js'
import { parseKeySet } from './tokens/jwks.js'
import { AUTHORIZATION_PARAM_RULES, type CognitoAuthorizationParams } from './cognito/sign-in-params.js'
import type { FastifyCognitoOptions } from './types.js'

export type { FastifyCognitoOptions } from './types.js'

/** The options after validation, with every default applied. Internal. */
export interface ResolvedCognitoOptions {
  userPoolId: string
  region: string
  clientId: string
  clientSecret: string | undefined
  domain: string
  redirectUri: string
  logoutUri: string | undefined
  scopes: string[]
  sessionKeys: Buffer[]
  issuer: string
  jwksUri: string
  prefix: string
  afterLoginRedirect: string
  cookieName: string
  secureCookies: boolean
  maxSessionAge: number
  autoRefresh: boolean
  refreshSkew: number
  authorizationParams: Record<string, string>
  userInfo: boolean
  onLogin: FastifyCognitoOptions['onLogin']
  onRefresh: FastifyCognitoOptions['onRefresh']
  onLogout: FastifyCognitoOptions['onLogout']
  httpTimeout: number
  clockTolerance: number
  jwksCooldown: number
  prefetchJwks: boolean
  jwks: { keys: unknown[] } | undefined
  tokenCacheSize: number
  /** A tenth of tokenCacheSize (rounded up). */
  sessionCacheSize: number
  maxSessionCookieBytes: number
  /** The clock, epoch milliseconds. */
  now: () => number
}

const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/
export const CLIENT_ID = /^[\w+-]{1,128}$/
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/ // RFC 6749 scope-token: printable ASCII but space, " and \
const COOKIE_NAME = /^[A-Za-z0-9_-]{1,32}$/
const OIDC_SCOPES_NEEDING_OPENID = ['email', 'phone', 'profile']

/**
 * Throws the options error that names the option. `group` names the options of another call than the plugin's
 * registration, e.g. 'clientCredentials': `fastify-cognito: clientCredentials option "domain" ...`.
 */
export function fail (option: string, problem: string, group?: string): never {
  const name = group === undefined ? `option "${option}"` : `${group} option "${option}"`
  throw new CognitoInvalidOptionError(`fastify-cognito: ${name} ${problem}`)
}

export function requireString (value: unknown, option: string, group?: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'is required and must be a non-empty string', group)
  return value
}

function isLoopbackHost (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]'
}

/** An absolute http(s) URL; plain http only on loopback, where no one else can read the traffic. */
export function parseUrl (value: unknown, option: string, { allowQuery = false, group }: { allowQuery?: boolean, group?: string } = {}): URL {
  const text = requireString(value, option, group)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    fail(option, `must be an absolute URL, got "${text}"`, group)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    fail(option, 'must use https (plain http is accepted only for localhost / 127.0.0.1)', group)
  }
  if (url.username !== '' || url.password !== '') fail(option, 'must not contain credentials', group)
  if (url.hash !== '') fail(option, 'must not contain a fragment', group)
  if (!allowQuery && url.search !== '') fail(option, 'must not contain a query string', group)
  return url
}

function withoutTrailingSlash (url: URL): string {
  return url.href.replace(/\/+$/, '')
}

/** A user pool domain (https://<prefix>.auth.<region>.amazoncognito.com or a custom one): a bare origin, no trailing slash. */
export function parseDomain (value: unknown, option: string, group?: string): string {
  const domain = withoutTrailingSlash(parseUrl(value, option, { group }))
  if (new URL(domain).pathname !== '/') fail(option, 'must be the bare domain URL, without a path', group)
  return domain
}

export function positiveInteger (value: unknown, option: string, fallback: number, { allowZero = false, group }: { allowZero?: boolean, group?: string } = {}): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
    fail(option, allowZero ? 'must be a whole number >= 0' : 'must be a whole number > 0', group)
  }
  return value
}

/**
 * Session secrets are stretched to 32-byte keys with HKDF. HKDF (not a password hash) is right here because the
 * secret is required to be long and random; a password-hash KDF would only slow down every start.
 */
function deriveSessionKeys (value: unknown): Buffer[] {
  const secrets = Array.isArray(value) ? value : [value]
  if (secrets.length === 0) fail('sessionSecret', 'must not be an empty array')
  return secrets.map((secret, index) => {
    const name = Array.isArray(value) ? `sessionSecret[${index}]` : 'sessionSecret'
    if (typeof secret !== 'string' || secret.length < 32) fail(name, 'must be a string of at least 32 characters')
    const salt = createHash('sha256').update('fastify-cognito session key salt').digest()
    return Buffer.from(hkdfSync('sha256', secret, salt, 'fastify-cognito session v1', 32))
  })
}

function validateScopes (value: unknown): string[] {
  if (value === undefined) return ['openid', 'email', 'profile']
  if (!Array.isArray(value) || value.length === 0) fail('scopes', 'must be a non-empty array of strings')
  for (const scope of value) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) fail('scopes', `has an invalid scope ${JSON.stringify(scope)}`)
  }
  const scopes = [...new Set(value as string[])]
  const needsOpenid = scopes.filter((scope) => OIDC_SCOPES_NEEDING_OPENID.includes(scope))
  if (needsOpenid.length > 0 && !scopes.includes('openid')) {
    fail('scopes', `contains ${needsOpenid.join(', ')}, which Cognito grants only together with "openid"`)
  }
  return scopes
}

function validatePrefix (value: unknown): string {
  if (value === undefined || value === '') return ''
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(value) || value.endsWith('/') || value.includes('//')) {
    fail('prefix', 'must be empty or a path starting with "/" and not ending with "/", e.g. "/auth"')
  }
  return value
}

function boundedInteger (value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `must be a whole number from ${min} to ${max}`)
  return value
}

function booleanOption (value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(option, 'must be a boolean')
  return value
}

function hookOption<T> (value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(option, 'must be a function')
  return value
}

function validateAuthorizationParams (value: unknown): Record<string, string> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('authorizationParams', 'must be an object')
  for (const [name, param] of Object.entries(value)) {
    const rule = AUTHORIZATION_PARAM_RULES[name as keyof CognitoAuthorizationParams]
    if (rule === undefined) fail(`authorizationParams.${name}`, `is not one of ${Object.keys(AUTHORIZATION_PARAM_RULES).join(', ')}`)
    if (typeof param !== 'string' || !rule.test(param)) fail(`authorizationParams.${name}`, 'has an invalid value')
  }
  return { ...value as Record<string, string> }
}

const MAX_TOKEN_CACHE_SIZE = 1_000_000

function validateTokenCacheSize (value: unknown): number {
  if (value === undefined) return 10_000
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TOKEN_CACHE_SIZE) {
    fail('tokenCacheSize', `must be a whole number from 0 to ${MAX_TOKEN_CACHE_SIZE}`)
  }
  return value
}

function validateJwks (value: unknown): { keys: unknown[] } | undefined {
  if (value === undefined) return undefined
  try {
    parseKeySet(value)
  } catch (error) {
    fail('jwks', `must be a JWKS document with at least one RSA signing key of 2048 bits or more (${(error as Error).message})`)
  }
  return value as { keys: unknown[] }
}

export function resolveOptions (raw: FastifyCognitoOptions): ResolvedCognitoOptions {
  if (raw === null || typeof raw !== 'object') throw new CognitoInvalidOptionError('fastify-cognito: options are required')

  const userPoolId = requireString(raw.userPoolId, 'userPoolId')
  const poolMatch = USER_POOL_ID.exec(userPoolId)
  if (poolMatch === null) fail('userPoolId', `must look like "<region>_<id>", e.g. "eu-west-1_AbCdEf123", got "${userPoolId}"`)
  const poolRegion = poolMatch[1] as string
  const region = raw.region === undefined ? poolRegion : requireString(raw.region, 'region')
  if (region !== poolRegion) fail('region', `"${region}" does not match the region of userPoolId ("${poolRegion}")`)

  const clientId = requireString(raw.clientId, 'clientId')
  if (!CLIENT_ID.test(clientId)) fail('clientId', 'must contain only letters, digits, "_", "-" and "+"')
  const clientSecret = raw.clientSecret === undefined ? undefined : requireString(raw.clientSecret, 'clientSecret')

  const domain = parseDomain(raw.domain, 'domain')
  const redirect = parseUrl(raw.redirectUri, 'redirectUri')
  const logoutUri = raw.logoutUri === undefined ? undefined : parseUrl(raw.logoutUri, 'logoutUri', { allowQuery: true }).href

  const issuer = raw.issuer === undefined
    ? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`
    : withoutTrailingSlash(parseUrl(raw.issuer, 'issuer'))
  const jwksUri = raw.jwksUri === undefined ? `${issuer}/.well-known/jwks.json` : parseUrl(raw.jwksUri, 'jwksUri').href

  const afterLoginRedirect = raw.afterLoginRedirect ?? '/'
  if (typeof afterLoginRedirect !== 'string' || !isSafeReturnTo(afterLoginRedirect)) {
    fail('afterLoginRedirect', 'must be a same-origin path starting with a single "/"')
  }

  const cookieName = raw.cookieName ?? 'cognito'
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    fail('cookieName', 'must be 1-32 characters of letters, digits, "_" and "-"')
  }
  const localDevelopment = redirect.protocol === 'http:'
  const secureCookies = booleanOption(raw.secureCookies, 'secureCookies', !localDevelopment)

  return {
    userPoolId,
    region,
    clientId,
    clientSecret,
    domain,
    redirectUri: redirect.href,
    logoutUri,
    scopes: validateScopes(raw.scopes),
    sessionKeys: deriveSessionKeys(raw.sessionSecret),
    issuer,
    jwksUri,
    prefix: validatePrefix(raw.prefix),
    afterLoginRedirect,
    cookieName,
    secureCookies,
    maxSessionAge: positiveInteger(raw.maxSessionAge, 'maxSessionAge', 30 * 24 * 3600),
    autoRefresh: booleanOption(raw.autoRefresh, 'autoRefresh', true),
    refreshSkew: positiveInteger(raw.refreshSkew, 'refreshSkew', 30, { allowZero: true }),
    authorizationParams: validateAuthorizationParams(raw.authorizationParams),
    userInfo: booleanOption(raw.userInfo, 'userInfo', false),
    onLogin: hookOption(raw.onLogin, 'onLogin'),
    onRefresh: hookOption(raw.onRefresh, 'onRefresh'),
    onLogout: hookOption(raw.onLogout, 'onLogout'),
    httpTimeout: positiveInteger(raw.httpTimeout, 'httpTimeout', 5000),
    clockTolerance: positiveInteger(raw.clockTolerance, 'clockTolerance', 5, { allowZero: true }),
    jwksCooldown: positiveInteger(raw.jwksCooldown, 'jwksCooldown', 30_000, { allowZero: true }),
    prefetchJwks: booleanOption(raw.prefetchJwks, 'prefetchJwks', true),
    jwks: validateJwks(raw.jwks),
    tokenCacheSize: validateTokenCacheSize(raw.tokenCacheSize),
    sessionCacheSize: Math.ceil(validateTokenCacheSize(raw.tokenCacheSize) / 10),
    maxSessionCookieBytes: boundedInteger(raw.maxSessionCookieBytes, 'maxSessionCookieBytes', DEFAULT_SESSION_COOKIE_BUDGET, COOKIE_CHUNK_LENGTH, MAX_SESSION_COOKIE_BUDGET),
    now: hookOption(raw.now, 'now') ?? Date.now
  }
}
