import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import {
  CognitoError,
  CognitoForbiddenError,
  CognitoOptionsError,
  CognitoStepUpRequiredError,
  CognitoUnauthenticatedError
} from './errors.js'
import { assertSessionAge, type SessionRefresher } from './session/refresh.js'
import { safeReturnTo } from './return-to.js'
import type { CognitoSessionData, SessionStore } from './session/store.js'
import { deepFreeze } from './tokens/cache.js'
import { unverifiedPayload, type CognitoTokenVerifier } from './tokens/verifier.js'
import type {
  CognitoAccessTokenPayload,
  CognitoIdTokenPayload,
  CognitoRequireAuthOptions,
  CognitoUser
} from './types.js'

const BEARER = /^Bearer +([^\s]+) *$/i
const BEARER_PREFIX = 'Bearer '

export interface Authentication {
  tokenPayload: CognitoAccessTokenPayload
  user: CognitoUser
}

/**
 * Authentications are built once per verified access token (and session) and then shared, deep-frozen, by every
 * request that presents the same token: a handler cannot change what the next request sees. A Bearer token's is
 * kept on its entry in the verifier's cache; a session's is keyed by the session object of the store's cache. Both
 * leave with those entries.
 */
const sessionAuthentications = new WeakMap<CognitoSessionData, { id: CognitoIdTokenPayload | undefined, authentication?: Authentication }>()

/**
 * The ID token in a session was verified (signature, issuer, audience, nonce) before the session was written,
 * and the session cookie is authenticated encryption: decoding its payload is enough here.
 */
function idTokenClaims (session: CognitoSessionData): CognitoIdTokenPayload | undefined {
  if (session.idToken === undefined) return undefined
  const claims = unverifiedPayload(session.idToken) as CognitoIdTokenPayload | undefined
  if (claims === undefined) return undefined
  // userInfo (option `userInfo`) was fetched for the same user at sign-in; its attributes complete the claims.
  return deepFreeze(session.userInfo === undefined ? claims : { ...claims, ...session.userInfo })
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

function validateMaxAge (value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new CognitoOptionsError('fastify-cognito: requireAuth option "maxAge" must be a whole number of seconds >= 0')
  }
  return value
}

/** Step-up (RFC 9470): the token must prove a sign-in at most `maxAge` seconds ago. */
function assertRecentSignIn (claims: CognitoAccessTokenPayload, maxAge: number, now: number): void {
  const authTime = claims.auth_time
  if (typeof authTime !== 'number' || now - authTime > maxAge) throw new CognitoStepUpRequiredError(maxAge)
}

/** RFC 6750 3: the header value that tells a client why its bearer token was refused. */
function wwwAuthenticate (error: CognitoError, scopes: readonly string[]): string {
  if (error instanceof CognitoStepUpRequiredError) {
    return `Bearer error="insufficient_user_authentication", error_description="A more recent sign-in is required", max_age=${error.maxAge}`
  }
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
  /** Refreshes sessions whose access token has expired or is about to; absent: no automatic refresh. */
  refresher?: SessionRefresher | undefined
  /** Seconds before `exp` at which a session is already refreshed. */
  refreshSkew?: number
  /** Absolute session lifetime in seconds since sign-in. */
  maxSessionAge?: number
  /** Current time in epoch seconds. */
  now?: () => number
}

const nowInSeconds = (): number => Date.now() / 1000

/** Any `Authorization: Bearer …` header makes the request a Bearer request: the session cookie is then ignored. */
function hasBearerHeader (authorization: string | undefined): authorization is string {
  // The usual spelling first: a prefix comparison instead of a case-insensitive regular expression on every request.
  return typeof authorization === 'string' && (authorization.startsWith(BEARER_PREFIX) || /^bearer(\s|$)/i.test(authorization))
}

/**
 * Before a session is authenticated: end it when it outlived `maxSessionAge`, and refresh its tokens when the
 * access token has expired or expires within `refreshSkew` (single flight, the new cookies go out on this reply).
 * A network fault while the current token is still valid is logged and the request goes on with that token.
 */
function prepareSession (request: FastifyRequest, reply: FastifyReply, deps: GuardDependencies): Promise<void> | undefined {
  // Synchronous (undefined) unless a refresh is due: most requests pay no promise and no microtask turn here.
  if (hasBearerHeader(request.headers.authorization)) return
  const session = deps.store.readSession(request)
  if (session === null) return
  const now = (deps.now ?? nowInSeconds)()
  if (deps.maxSessionAge !== undefined) assertSessionAge(deps.store, request, reply, session, deps.maxSessionAge, now)
  if (deps.refresher === undefined || session.refreshToken === undefined) return
  if (session.expiresAt - now > (deps.refreshSkew ?? 0)) return
  return refreshSession(request, reply, deps.refresher, session, now)
}

async function refreshSession (request: FastifyRequest, reply: FastifyReply, refresher: SessionRefresher, session: CognitoSessionData, now: number): Promise<void> {
  try {
    await refresher.refresh(request, reply, session)
  } catch (error) {
    const stillValid = session.expiresAt > now
    if (stillValid && error instanceof CognitoError && error.statusCode >= 500) {
      request.log.warn({ code: error.code }, 'fastify-cognito: refreshing an expiring session failed; the current token is used')
      return
    }
    throw error
  }
}

/**
 * Authenticates a request from `Authorization: Bearer` (when present it is the only source: an invalid bearer
 * token never falls back to the cookie) or else from the session cookie, with the same token checks.
 * Synchronous whenever it can be (a cached token, or a key already held): the guard's hot path then runs without
 * a promise or a microtask turn. Throws (or rejects) with a typed CognitoError.
 */
export function authenticateNow (request: FastifyRequest, deps: GuardDependencies): Authentication | Promise<Authentication> {
  const { verifier } = deps
  const authorization = request.headers.authorization
  if (typeof authorization === 'string') {
    // Hot path: exactly this token passed every check before. A cached token is base64url and dots only, so the
    // header is then of the form BEARER matches, with this token as the match.
    if (authorization.startsWith(BEARER_PREFIX)) {
      const entry = verifier.cachedEntry(authorization.slice(BEARER_PREFIX.length))
      if (entry !== undefined) return entry.derived as Authentication | undefined ?? bearerAuthentication(verifier, entry.token, entry.claims)
    }
    if (hasBearerHeader(authorization)) {
      const match = BEARER.exec(authorization)
      if (match === null) throw new CognitoUnauthenticatedError('The Authorization header is not of the form "Bearer <token>"')
      const token = match[1] as string
      const verified = verifier.verifyAccessTokenNow(token)
      return verified instanceof Promise
        ? verified.then((claims) => bearerAuthentication(verifier, token, claims))
        : bearerAuthentication(verifier, token, verified)
    }
  }
  const session = deps.store.readSession(request)
  if (session === null) throw new CognitoUnauthenticatedError()
  // Synchronous unless the JWKS must be fetched: no microtask turn on the hot path.
  const verified = verifier.verifyAccessTokenNow(session.accessToken)
  return verified instanceof Promise ? verified.then((claims) => sessionAuthentication(session, claims)) : sessionAuthentication(session, verified)
}

/** Scope lists are the same for many tokens: cached authentications share one frozen array per `scope` string. */
const scopeLists = new Map<string, string[]>()
const SCOPE_LISTS_MAX = 256

/** `buildUser`, frozen, with a shared scope list: what the guards hand out and keep. */
function frozenUser (access: CognitoAccessTokenPayload, id?: CognitoIdTokenPayload): CognitoUser {
  const user = buildUser(access, id)
  if (typeof access.scope === 'string') {
    const known = scopeLists.get(access.scope)
    if (known === undefined) {
      if (scopeLists.size >= SCOPE_LISTS_MAX) scopeLists.clear()
      scopeLists.set(access.scope, Object.freeze(user.scopes) as string[])
    } else {
      user.scopes = known
    }
  }
  return deepFreeze(user)
}

/** What a Bearer request is authenticated as, frozen (also what the cache keeps with the token). */
export function bearerAuthenticationOf (tokenPayload: CognitoAccessTokenPayload): Authentication {
  return Object.freeze({ tokenPayload, user: frozenUser(tokenPayload) })
}

/** Builds the authentication of a verified Bearer token, kept on its cache entry (when cached) for the next requests. */
function bearerAuthentication (verifier: CognitoTokenVerifier, token: string, tokenPayload: CognitoAccessTokenPayload): Authentication {
  const entry = verifier.cachedEntry(token)
  if (entry?.claims === tokenPayload && entry.derived !== undefined) return entry.derived as Authentication
  const authentication = bearerAuthenticationOf(tokenPayload)
  if (entry?.claims === tokenPayload) entry.derived = authentication
  return authentication
}

function sessionAuthentication (session: CognitoSessionData, tokenPayload: CognitoAccessTokenPayload): Authentication {
  let known = sessionAuthentications.get(session)
  if (known === undefined) {
    known = { id: idTokenClaims(session) }
    sessionAuthentications.set(session, known)
  }
  let authentication = known.authentication
  if (authentication?.tokenPayload !== tokenPayload) {
    authentication = Object.freeze({ tokenPayload, user: frozenUser(tokenPayload, known.id) })
    known.authentication = authentication
  }
  return authentication
}

export function createRequireAuth (deps: GuardDependencies): (options?: CognitoRequireAuthOptions) => preHandlerAsyncHookHandler {
  return function requireAuth (options = {}) {
    const groups = validateNames(options.groups, 'groups')
    const scopes = validateNames(options.scopes, 'scopes')
    const anyGroup = options.anyGroup === true
    const redirectToLogin = options.redirectToLogin !== false

    const maxAge = validateMaxAge(options.maxAge)
    const check = options.check
    if (check !== undefined && typeof check !== 'function') throw new CognitoOptionsError('fastify-cognito: requireAuth option "check" must be a function')

    function redirectTarget (request: FastifyRequest, stepUp: boolean): string {
      const query = new URLSearchParams()
      const returnTo = safeReturnTo(request.url)
      if (returnTo !== undefined) query.set('returnTo', returnTo)
      // Cognito's managed-login cookie would sign the user in again silently: ask for credentials.
      if (stepUp) query.set('prompt', 'login')
      const search = query.toString()
      return search === '' ? deps.loginPath : `${deps.loginPath}?${search}`
    }

    /** The authentication of this request, with the step-up check: synchronous unless a refresh or a JWKS fetch is due. */
    function authenticate (request: FastifyRequest, reply: FastifyReply): Authentication | Promise<Authentication> {
      const preparing = prepareSession(request, reply, deps)
      const authenticating = preparing === undefined ? authenticateNow(request, deps) : preparing.then(() => authenticateNow(request, deps))
      if (maxAge === undefined) return authenticating
      const recent = (authentication: Authentication): Authentication => {
        assertRecentSignIn(authentication.tokenPayload, maxAge, (deps.now ?? nowInSeconds)())
        return authentication
      }
      return authenticating instanceof Promise ? authenticating.then(recent) : recent(authenticating)
    }

    /** A 401: a login redirect for browser navigations (the reply, answered), else the error with its WWW-Authenticate. */
    function refuse (error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
      if (error instanceof CognitoError && error.statusCode === 401) {
        if (redirectToLogin && isBrowserNavigation(request)) {
          reply.header('cache-control', 'no-store')
          return reply.redirect(redirectTarget(request, error instanceof CognitoStepUpRequiredError), 302)
        }
        reply.header('www-authenticate', wwwAuthenticate(error, scopes))
      }
      throw error
    }

    /** Throws the 403 when the user lacks a required scope or group. */
    function assertAllowed (user: CognitoUser, reply: FastifyReply): void {
      // Most guards ask for no scope or no group: then no array and no closure per request.
      const missingScopes = scopes.length === 0 ? scopes : scopes.filter((scope) => !user.scopes.includes(scope))
      const missingGroups = groups.length === 0 ? groups : groups.filter((group) => !user.groups.includes(group))
      const groupsOk = groups.length === 0 || (anyGroup ? missingGroups.length < groups.length : missingGroups.length === 0)
      if (missingScopes.length > 0 || !groupsOk) {
        const error = new CognitoForbiddenError(
          missingScopes.length > 0 ? 'The access token lacks a required scope' : 'The user is not in a required group',
          { groups: groupsOk ? [] : missingGroups, scopes: missingScopes }
        )
        reply.header('www-authenticate', wwwAuthenticate(error, scopes))
        throw error
      }
    }

    function admit (request: FastifyRequest, authentication: Authentication): void {
      request.user = authentication.user
      request.tokenPayload = authentication.tokenPayload
    }

    async function guardAsync (request: FastifyRequest, reply: FastifyReply, pending: Authentication | Promise<Authentication>): Promise<unknown> {
      let authentication: Authentication
      try {
        authentication = await pending
      } catch (error) {
        // An async hook that has answered returns the reply, so Fastify stops the chain here.
        return refuse(error, request, reply)
      }
      assertAllowed(authentication.user, reply)
      if (check !== undefined && !(await check(authentication.user, request))) {
        throw new CognitoForbiddenError('The request is not allowed by the route\'s access rule')
      }
      admit(request, authentication)
      return undefined
    }

    /**
     * Fastify calls a hook with `done` and takes a returned promise as the hook's outcome instead. Most requests
     * present a token that is cached (or whose key is held), so the guard decides at once: it then calls `done` and
     * costs no promise and no microtask turn. Otherwise, or when called directly as `guard(request, reply)`, it
     * returns a promise, as the declared async hook type says.
     */
    return function cognitoGuard (this: unknown, request: FastifyRequest, reply: FastifyReply, done?: (error?: Error) => void): Promise<unknown> | undefined {
      let pending: Authentication | Promise<Authentication>
      try {
        pending = authenticate(request, reply)
      } catch (error) {
        pending = Promise.reject(error)
      }
      if (done === undefined || pending instanceof Promise || check !== undefined) return guardAsync(request, reply, pending)
      try {
        assertAllowed(pending.user, reply)
      } catch (error) {
        done(error as Error)
        return undefined
      }
      admit(request, pending)
      done()
      return undefined
    } as preHandlerAsyncHookHandler
  }
}

/** The user of a session as a guard would build it, for hooks that run outside a guard (logout, refresh). */
export function sessionUser (session: CognitoSessionData): CognitoUser {
  // The session's access token was verified before the session was written, and the cookie is authenticated.
  const access = (unverifiedPayload(session.accessToken) ?? {}) as CognitoAccessTokenPayload
  return buildUser(access, idTokenClaims(session))
}
