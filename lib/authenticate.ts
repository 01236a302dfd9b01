import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CognitoContext } from './context.js'
import { CognitoError, CognitoInvalidTokenError, CognitoSessionExpiredError, CognitoTokenExpiredError, CognitoUnauthenticatedError } from './errors.js'
import { hasOutlivedMaxAge, type CognitoSessionData } from './session/model.js'
import { assertSessionAge, refreshDueAt, type SessionRefresher } from './session/refresh.js'
import type { CognitoAccessTokenPayload, CognitoIdTokenPayload, CognitoUser } from './types.js'
import { buildUser, frozenUser, profileClaims } from './user.js'

/**
 * request -> authentication: from `Authorization: Bearer` (when present it is the only source: an invalid bearer
 * token never falls back to the cookie) or else from the session, with the same token checks, after the session's
 * upkeep (maximum age, automatic refresh). Synchronous whenever it can be (a cached token, or a key already held):
 * the guard's hot path then runs without a promise or a microtask turn.
 */

const BEARER = /^Bearer +([^\s]+) *$/i
const BEARER_PREFIX = 'Bearer '

export interface Authentication {
  tokenPayload: CognitoAccessTokenPayload
  user: CognitoUser
}

/**
 * Authentications are built once per verified access token (and session) and then shared, deep-frozen, by every
 * request that presents the same token: a handler cannot change what the next request sees. A Bearer token's is
 * keyed by its claims object, the verifier's cache entry's own; a session's by the session object of the store's
 * cache. Both leave with those objects.
 */
const bearerAuthentications = new WeakMap<CognitoAccessTokenPayload, Authentication>()
const sessionAuthentications = new WeakMap<CognitoSessionData, SessionAuthentication>()

/** A session's verified ID-token claims (with userInfo) and its last authentication. */
interface SessionAuthentication {
  readonly id: CognitoIdTokenPayload | undefined
  authentication?: Authentication
}

/** Any `Authorization: Bearer …` header makes the request a Bearer request: the session cookie is then ignored. */
export function hasBearerHeader (authorization: string | undefined): authorization is string {
  // The usual spelling first: a prefix comparison instead of a case-insensitive regular expression on every request.
  return typeof authorization === 'string' && (authorization.startsWith(BEARER_PREFIX) || /^bearer(\s|$)/i.test(authorization))
}

/**
 * Before a session is authenticated: end it when it outlived `maxSessionAge`, and refresh its tokens when the
 * access token has expired or expires within `refreshSkew` (single flight, the new cookies go out on this reply).
 * Synchronous (undefined) unless a refresh is due: most requests pay no promise and no microtask turn here.
 */
export function prepareSession (request: FastifyRequest, reply: FastifyReply, context: CognitoContext): Promise<void> | undefined {
  return withLoadedSession(request, context, () => prepareLoadedSession(request, reply, context)) as Promise<void> | undefined
}

function prepareLoadedSession (request: FastifyRequest, reply: FastifyReply, context: CognitoContext): Promise<void> | undefined {
  if (context.signIn === undefined || hasBearerHeader(request.headers.authorization)) return
  const { store, options, autoRefresher } = context.signIn
  const session = store.readSession(request)
  if (session === null) return
  const now = context.clock.seconds()
  assertSessionAge(store, request, reply, session, options.maxSessionAge, now)
  if (autoRefresher === undefined || session.refreshToken === undefined) return
  if (refreshDueAt(session, options.refreshSkew) > now) return
  return refreshSession(request, reply, autoRefresher, session, now)
}

/** A network fault while the current token is still valid is logged and the request goes on with that token. */
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

/** The session upkeep, then the authentication and the app's revocation check: what a guard runs. */
export function authenticate (request: FastifyRequest, reply: FastifyReply, context: CognitoContext): Authentication | Promise<Authentication> {
  context.signIn?.store.assertRevocationsKnown?.()
  const preparing = prepareSession(request, reply, context)
  const authenticating = preparing === undefined ? authenticateNow(request, context) : preparing.then(() => authenticateNow(request, context))
  return withRevocationCheck(request, context, authenticating)
}

/**
 * The app's own revocation list (option `isRevoked`), asked on every authentication, cached tokens included: a
 * token verified a minute ago and revoked since is refused.
 */
function withRevocationCheck (request: FastifyRequest, context: CognitoContext, authenticating: Authentication | Promise<Authentication>): Authentication | Promise<Authentication> {
  const isRevoked = context.options.isRevoked
  if (isRevoked === undefined) return authenticating
  const check = (authentication: Authentication): Authentication | Promise<Authentication> => {
    const revoked = isRevoked(authentication.tokenPayload, request)
    const decide = (yes: boolean): Authentication => {
      if (yes) throw new CognitoInvalidTokenError('Token was revoked')
      return authentication
    }
    return revoked instanceof Promise ? revoked.then(decide) : decide(revoked)
  }
  return authenticating instanceof Promise ? authenticating.then(check) : check(authenticating)
}

/**
 * Whether the request presents no credentials at all: no `Authorization: Bearer` header and no session (guards
 * with `optional: true` let it through as anonymous; a credential that is present must be valid).
 */
export function presentsNoCredentials (request: FastifyRequest, context: CognitoContext): boolean | Promise<boolean> {
  if (hasBearerHeader(request.headers.authorization)) return false
  const store = context.signIn?.store
  if (store === undefined) return true
  return withLoadedSession(request, context, () => store.readSession(request) === null)
}

/** The request's session loaded from its store first (a server-side store may need a round trip), then `next`. */
export function withLoadedSession<T> (request: FastifyRequest, context: CognitoContext, next: () => T | Promise<T>): T | Promise<T> {
  const signIn = context.signIn
  if (signIn === undefined || hasBearerHeader(request.headers.authorization)) return next()
  const loading = signIn.store.loadSession(request)
  return loading === undefined ? next() : loading.then(next)
}

/**
 * What the guard would decide without changing anything (no refresh, no cookie cleared): for helpers that have no
 * reply to write to. A session past `maxSessionAge` is refused here too.
 */
export function checkAuthentication (request: FastifyRequest, context: CognitoContext): Authentication | Promise<Authentication> {
  context.signIn?.store.assertRevocationsKnown?.()
  return withLoadedSession(request, context, () => checkLoadedAuthentication(request, context))
}

function checkLoadedAuthentication (request: FastifyRequest, context: CognitoContext): Authentication | Promise<Authentication> {
  const signIn = context.signIn
  if (signIn !== undefined && !hasBearerHeader(request.headers.authorization)) {
    const session = signIn.store.readSession(request)
    if (session !== null && hasOutlivedMaxAge(session, signIn.options.maxSessionAge, context.clock.seconds())) {
      throw new CognitoSessionExpiredError('The session has reached its maximum age: sign in again')
    }
  }
  return withRevocationCheck(request, context, authenticateNow(request, context))
}

/** The authentication of this request as it stands (no upkeep). Throws (or rejects) with a typed CognitoError. */
export function authenticateNow (request: FastifyRequest, context: CognitoContext): Authentication | Promise<Authentication> {
  const { verifier } = context
  const authorization = request.headers.authorization
  if (typeof authorization === 'string') {
    // Hot path: exactly this token passed every check before. A cached token is base64url and dots only, so the
    // header is then of the form BEARER matches, with this token as the match.
    if (authorization.startsWith(BEARER_PREFIX)) {
      const claims = verifier.cachedAccessToken(authorization.slice(BEARER_PREFIX.length))
      if (claims !== undefined) return bearerAuthentication(claims, context.poolIdOf)
    }
    if (hasBearerHeader(authorization)) {
      const match = BEARER.exec(authorization)
      if (match === null) throw new CognitoUnauthenticatedError('The Authorization header is not of the form "Bearer <token>"')
      const verified = verifier.verifyAccessTokenNow(match[1] as string)
      return verified instanceof Promise
        ? verified.then((claims) => bearerAuthentication(claims, context.poolIdOf))
        : bearerAuthentication(verified, context.poolIdOf)
    }
  }
  const session = context.signIn?.store.readSession(request) ?? null
  if (session === null) throw new CognitoUnauthenticatedError()
  // Synchronous unless the JWKS must be fetched: no microtask turn on the hot path.
  const verified = verifier.verifyAccessTokenNow(session.accessToken)
  return verified instanceof Promise
    ? verified.then((claims) => sessionAuthentication(context, session, claims))
    : sessionAuthentication(context, session, verified)
}

/** The user pool id of a verified token's issuer. */
export type PoolIdOf = (issuer: string) => string

/** What a Bearer request is authenticated as, frozen, built once per verified claims object. */
export function bearerAuthentication (tokenPayload: CognitoAccessTokenPayload, poolIdOf: PoolIdOf): Authentication {
  let authentication = bearerAuthentications.get(tokenPayload)
  if (authentication === undefined) {
    // Only frozen claims are the verifier's shared objects (asked before frozenUser freezes whatever it is given).
    const shared = Object.isFrozen(tokenPayload)
    authentication = Object.freeze({ tokenPayload, user: frozenUser(tokenPayload, undefined, poolIdOf(tokenPayload.iss)) })
    if (shared) bearerAuthentications.set(tokenPayload, authentication)
  }
  return authentication
}

/**
 * A session authenticates with its verified access token and, when it has one, its ID token, verified too
 * (signature, issuer, audience, `token_use`, expiry, and the access token's `sub`) once per session object and
 * then kept with it, its expiry checked on every request as the access token's is. A session that was signed out
 * in this process does not authenticate, whichever copy of its cookies comes back.
 */
function sessionAuthentication (context: CognitoContext, session: CognitoSessionData, tokenPayload: CognitoAccessTokenPayload): Authentication | Promise<Authentication> {
  if (context.signIn?.store.hasEnded(session) === true) throw new CognitoInvalidTokenError('The session was signed out')
  const known = sessionAuthentications.get(session)
  if (known === undefined) {
    const id = verifiedIdClaims(context, session, tokenPayload.sub, false)
    return id instanceof Promise
      ? id.then((claims) => rememberSession(context, session, tokenPayload, claims))
      : rememberSession(context, session, tokenPayload, id)
  }
  return sessionAuthenticationOf(context, known, tokenPayload)
}

function rememberSession (context: CognitoContext, session: CognitoSessionData, tokenPayload: CognitoAccessTokenPayload, id: CognitoIdTokenPayload | undefined): Authentication {
  const known: SessionAuthentication = { id: profileClaims(id, userInfoOf(context, session)) }
  sessionAuthentications.set(session, known)
  return sessionAuthenticationOf(context, known, tokenPayload)
}

function sessionAuthenticationOf (context: CognitoContext, known: SessionAuthentication, tokenPayload: CognitoAccessTokenPayload): Authentication {
  if (known.id !== undefined && known.id.exp <= context.clock.seconds() - context.options.clockTolerance) throw new CognitoTokenExpiredError()
  let authentication = known.authentication
  if (authentication?.tokenPayload !== tokenPayload) {
    authentication = Object.freeze({ tokenPayload, user: frozenUser(tokenPayload, known.id, context.poolIdOf(tokenPayload.iss)) })
    known.authentication = authentication
  }
  return authentication
}

/** The session's userInfo, only where the registration asks for it (option `userInfo`): a session never brings its own. */
function userInfoOf (context: CognitoContext, session: CognitoSessionData): Record<string, unknown> | undefined {
  return context.signIn?.options.userInfo === true ? session.userInfo : undefined
}

function verifiedIdClaims (context: CognitoContext, session: CognitoSessionData, sub: string, allowExpired: boolean): CognitoIdTokenPayload | undefined | Promise<CognitoIdTokenPayload> {
  if (session.idToken === undefined) return undefined
  return context.verifier.verifyIdTokenNow(session.idToken, { sub, allowExpired })
}

/**
 * The user and access claims of a session that is ending (logout), from its verified tokens, expired ones
 * included; null when its tokens do not verify (a forged or signed-out session names nobody).
 */
export async function endingSession (context: CognitoContext, session: CognitoSessionData): Promise<{ user: CognitoUser, access: CognitoAccessTokenPayload } | null> {
  if (context.signIn?.store.hasEnded(session) === true) return null
  try {
    const access = await context.verifier.verifyAccessTokenNow(session.accessToken, { allowExpired: true })
    const id = await verifiedIdClaims(context, session, access.sub, true)
    return { user: buildUser(access, profileClaims(id, userInfoOf(context, session)), context.poolIdOf(access.iss)), access }
  } catch (error) {
    if (error instanceof CognitoError) return null
    throw error
  }
}
