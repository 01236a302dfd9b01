import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import {
  CognitoError,
  CognitoForbiddenError,
  CognitoOptionsError,
  CognitoUnauthenticatedError
} from './errors.js'
import { safeReturnTo } from './return-to.js'
import type { CognitoSessionData, SessionStore } from './session/store.js'
import type { CognitoTokenVerifier } from './tokens/verifier.js'
import type {
  CognitoAccessTokenPayload,
  CognitoIdTokenPayload,
  CognitoRequireAuthOptions,
  CognitoUser
} from './types.js'

const BEARER = /^Bearer +([^\s]+) *$/i

export interface Authentication {
  tokenPayload: CognitoAccessTokenPayload
  user: CognitoUser
}

/**
 * The ID token in a session was verified (signature, issuer, audience, nonce) before the session was written,
 * and the session cookie is authenticated encryption: decoding its payload is enough here.
 */
function idTokenClaims (session: CognitoSessionData): CognitoIdTokenPayload | undefined {
  if (session.idToken === undefined) return undefined
  const payload = session.idToken.split('.')[1]
  if (payload === undefined) return undefined
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CognitoIdTokenPayload
  } catch {
    return undefined
  }
}

export function buildUser (access: CognitoAccessTokenPayload, id?: CognitoIdTokenPayload): CognitoUser {
  const user: CognitoUser = {
    sub: access.sub,
    username: access.username,
    groups: access['cognito:groups'] ?? id?.['cognito:groups'] ?? [],
    scopes: typeof access.scope === 'string' ? access.scope.split(' ').filter((scope) => scope !== '') : [],
    claims: id ?? access
  }
  if (typeof id?.email === 'string') user.email = id.email
  if (typeof id?.email_verified === 'boolean') user.emailVerified = id.email_verified
  return user
}

/** q-value of the first media range in an Accept header that matches one of `types`; 0 when none does. */
function quality (accept: string, types: readonly string[]): number {
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    if (!types.includes(type)) continue
    const q = params.find((param) => param.startsWith('q='))
    const value = q === undefined ? 1 : Number(q.slice(2))
    return Number.isFinite(value) ? value : 0
  }
  return 0
}

/** A browser navigation: a GET that prefers HTML to JSON. Such requests get a login redirect instead of a 401. */
export function isBrowserNavigation (request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false
  const accept = request.headers.accept
  if (typeof accept !== 'string') return false
  const html = quality(accept, ['text/html', 'application/xhtml+xml'])
  return html > 0 && html >= quality(accept, ['application/json'])
}

function validateNames (value: unknown, option: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new CognitoOptionsError(`fastify-cognito: requireAuth option "${option}" must be an array of non-empty strings`)
  }
  return value
}

/** RFC 6750 3: the header value that tells a client why its bearer token was refused. */
function wwwAuthenticate (error: CognitoError, scopes: readonly string[]): string {
  if (error instanceof CognitoForbiddenError) {
    return error.missingScopes.length > 0 ? `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"` : 'Bearer'
  }
  if (error instanceof CognitoUnauthenticatedError) return 'Bearer'
  if (error.statusCode === 401) return `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`
  return 'Bearer'
}

export interface GuardDependencies {
  verifier: CognitoTokenVerifier
  store: SessionStore
  loginPath: string
}

/**
 * Authenticates a request from `Authorization: Bearer` (when present it is the only source: an invalid bearer
 * token never falls back to the cookie) or else from the session cookie, with the same token checks.
 */
export async function authenticate (request: FastifyRequest, deps: GuardDependencies): Promise<Authentication> {
  const authorization = request.headers.authorization
  if (typeof authorization === 'string' && /^bearer(\s|$)/i.test(authorization)) {
    const match = BEARER.exec(authorization)
    if (match === null) throw new CognitoUnauthenticatedError('The Authorization header is not of the form "Bearer <token>"')
    const tokenPayload = await deps.verifier.verifyAccessToken(match[1] as string)
    return { tokenPayload, user: buildUser(tokenPayload) }
  }
  const session = deps.store.readSession(request)
  if (session === null) throw new CognitoUnauthenticatedError()
  const tokenPayload = await deps.verifier.verifyAccessToken(session.accessToken)
  return { tokenPayload, user: buildUser(tokenPayload, idTokenClaims(session)) }
}

export function createRequireAuth (deps: GuardDependencies): (options?: CognitoRequireAuthOptions) => preHandlerAsyncHookHandler {
  return function requireAuth (options = {}) {
    const groups = validateNames(options.groups, 'groups')
    const scopes = validateNames(options.scopes, 'scopes')
    const anyGroup = options.anyGroup === true
    const redirectToLogin = options.redirectToLogin !== false

    function redirectTarget (request: FastifyRequest): string {
      const returnTo = safeReturnTo(request.url)
      return returnTo === undefined ? deps.loginPath : `${deps.loginPath}?returnTo=${encodeURIComponent(returnTo)}`
    }

    return async function cognitoGuard (this: unknown, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
      let authentication: Authentication
      try {
        authentication = await authenticate(request, deps)
      } catch (error) {
        if (error instanceof CognitoError && error.statusCode === 401) {
          if (redirectToLogin && isBrowserNavigation(request)) {
            reply.header('cache-control', 'no-store')
            // An async hook that has answered returns the reply, so Fastify stops the chain here.
            return reply.redirect(redirectTarget(request), 302)
          }
          reply.header('www-authenticate', wwwAuthenticate(error, scopes))
        }
        throw error
      }
      const { user } = authentication
      const missingScopes = scopes.filter((scope) => !user.scopes.includes(scope))
      const missingGroups = groups.filter((group) => !user.groups.includes(group))
      const groupsOk = groups.length === 0 || (anyGroup ? missingGroups.length < groups.length : missingGroups.length === 0)
      if (missingScopes.length > 0 || !groupsOk) {
        const error = new CognitoForbiddenError(
          missingScopes.length > 0 ? 'The access token lacks a required scope' : 'The user is not in a required group',
          { groups: groupsOk ? [] : missingGroups, scopes: missingScopes }
        )
        reply.header('www-authenticate', wwwAuthenticate(error, scopes))
        throw error
      }
      request.user = user
      request.tokenPayload = authentication.tokenPayload
      return undefined
    }
  }
}
