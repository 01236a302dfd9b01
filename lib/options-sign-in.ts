import { createHash, hkdfSync } from 'node:crypto'
import { AUTHORIZATION_PARAM_RULES, type CognitoAuthorizationParams } from './cognito/sign-in-params.js'
import { booleanOption, boundedInteger, fail, hookOption, parseDomain, parseUrl, positiveInteger, requireString, scopeList } from './option-rules.js'
import { COOKIE_CHUNK_LENGTH, DEFAULT_SESSION_COOKIE_BUDGET, MAX_SESSION_COOKIE_BUDGET } from './session/cookie-store.js'
import type { FastifyCognitoOptions } from './types-options.js'
import type { CognitoSessionStore } from './types-store.js'
import { isSafeReturnTo } from './util/return-to.js'

/** Browser sign-in (hosted UI, session cookies, the plugin's routes), resolved. Absent in a bearer-only registration. */
export interface ResolvedSignInOptions {
  /** The app client users sign in with: the first accepted one. */
  clientId: string
  clientSecret: string | undefined
  domain: string
  redirectUri: string
  logoutUri: string | undefined
  scopes: string[]
  sessionKeys: Buffer[]
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
  maxSessionCookieBytes: number
  /** The server-side store, or undefined for cookie sessions. */
  sessionStore: CognitoSessionStore | undefined
  sessionStoreTimeout: number
  revocationFailOpen: boolean
}

/** What turns browser sign-in on: all three, or none (a bearer-only registration). */
const SIGN_IN_OPTIONS = ['domain', 'redirectUri', 'sessionSecret'] as const
/** Options that only mean something with browser sign-in. */
const SIGN_IN_ONLY_OPTIONS = ['clientSecret', 'logoutUri', 'scopes', 'afterLoginRedirect', 'cookieName', 'secureCookies', 'maxSessionAge',
  'autoRefresh', 'authorizationParams', 'userInfo', 'onLogin', 'onRefresh', 'onLogout', 'maxSessionCookieBytes', 'sessionStore', 'sessionStoreTimeout',
  'revocationFailOpen'] as const
const COOKIE_NAME = /^[A-Za-z0-9_-]{1,32}$/
const OIDC_SCOPES_NEEDING_OPENID = ['email', 'phone', 'profile']

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
  const scopes = scopeList(value, 'scopes', ['openid', 'email', 'profile'])
  const needsOpenid = scopes.filter((scope) => OIDC_SCOPES_NEEDING_OPENID.includes(scope))
  if (needsOpenid.length > 0 && !scopes.includes('openid')) {
    fail('scopes', `contains ${needsOpenid.join(', ')}, which Cognito grants only together with "openid"`)
  }
  return scopes
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

/** Every operation a session store must have (types-store.ts). */
const STORE_OPERATIONS = ['get', 'create', 'replace', 'delete', 'addToSet', 'removeFromSet', 'setMembers', 'acquireLock', 'releaseLock',
  'addExpiring', 'liveMembers', 'publish', 'subscribe'] as const

function validateSessionStore (value: unknown): CognitoSessionStore | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object') fail('sessionStore', 'must be a session store, such as redisStore({ client }) from "fastify-cognito/redis"')
  const store = value as Record<string, unknown>
  const missing = STORE_OPERATIONS.filter((name) => typeof store[name] !== 'function')
  if (missing.length > 0) fail('sessionStore', `lacks ${missing.join(', ')} (see CognitoSessionStore)`)
  const prefix = store.keyPrefix
  if (prefix !== undefined && (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 200)) {
    fail('sessionStore.keyPrefix', 'must be a string of at most 200 characters without "{" or "}"')
  }
  return value as CognitoSessionStore
}

/**
 * Browser sign-in is on when `domain`, `redirectUri` and `sessionSecret` are all given, off when none is (an API
 * that only checks Bearer tokens needs no login page, no callback and no cookies). Some but not all is a mistake
 * worth stopping the start for, and so is a sign-in-only option without sign-in.
 */
export function resolveSignInOptions (raw: FastifyCognitoOptions, clientId: string): ResolvedSignInOptions | undefined {
  const given = SIGN_IN_OPTIONS.filter((name) => raw[name] !== undefined)
  if (given.length === 0) {
    const stray = SIGN_IN_ONLY_OPTIONS.find((name) => raw[name] !== undefined)
    if (stray !== undefined) fail(stray, 'needs browser sign-in: give "domain", "redirectUri" and "sessionSecret" too')
    return undefined
  }
  const missing = SIGN_IN_OPTIONS.filter((name) => raw[name] === undefined)
  if (missing.length > 0) {
    const named = missing.map((name) => name === 'sessionSecret' ? '"sessionSecret" (a secret of at least 32 characters)' : `"${name}"`)
    fail(missing[0] as string, `is required for browser sign-in: ${given.map((name) => `"${name}"`).join(' and ')} ${given.length === 1 ? 'was' : 'were'} given, ` +
      `so give ${named.join(' and ')} too (all three, or none for a bearer-only API)`)
  }
  const redirect = parseUrl(raw.redirectUri, 'redirectUri')
  const afterLoginRedirect = raw.afterLoginRedirect ?? '/'
  if (typeof afterLoginRedirect !== 'string' || !isSafeReturnTo(afterLoginRedirect)) {
    fail('afterLoginRedirect', 'must be a same-origin path starting with a single "/"')
  }
  const cookieName = raw.cookieName ?? 'cognito'
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    fail('cookieName', 'must be 1-32 characters of letters, digits, "_" and "-"')
  }
  return {
    clientId,
    clientSecret: raw.clientSecret === undefined ? undefined : requireString(raw.clientSecret, 'clientSecret'),
    domain: parseDomain(raw.domain, 'domain'),
    redirectUri: redirect.href,
    logoutUri: raw.logoutUri === undefined ? undefined : parseUrl(raw.logoutUri, 'logoutUri', { allowQuery: true }).href,
    scopes: validateScopes(raw.scopes),
    sessionKeys: deriveSessionKeys(raw.sessionSecret),
    afterLoginRedirect,
    cookieName,
    secureCookies: booleanOption(raw.secureCookies, 'secureCookies', redirect.protocol !== 'http:'),
    maxSessionAge: positiveInteger(raw.maxSessionAge, 'maxSessionAge', 30 * 24 * 3600),
    autoRefresh: booleanOption(raw.autoRefresh, 'autoRefresh', true),
    refreshSkew: positiveInteger(raw.refreshSkew, 'refreshSkew', 30, { allowZero: true }),
    authorizationParams: validateAuthorizationParams(raw.authorizationParams),
    userInfo: booleanOption(raw.userInfo, 'userInfo', false),
    onLogin: hookOption(raw.onLogin, 'onLogin'),
    onRefresh: hookOption(raw.onRefresh, 'onRefresh'),
    onLogout: hookOption(raw.onLogout, 'onLogout'),
    maxSessionCookieBytes: boundedInteger(raw.maxSessionCookieBytes, 'maxSessionCookieBytes', DEFAULT_SESSION_COOKIE_BUDGET, COOKIE_CHUNK_LENGTH, MAX_SESSION_COOKIE_BUDGET),
    sessionStore: validateSessionStore(raw.sessionStore),
    sessionStoreTimeout: boundedInteger(raw.sessionStoreTimeout, 'sessionStoreTimeout', 500, 10, 60_000),
    revocationFailOpen: booleanOption(raw.revocationFailOpen, 'revocationFailOpen', false)
  }
}
