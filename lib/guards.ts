import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { authenticate, type Authentication } from './authenticate.js'
import type { CognitoContext } from './context.js'
import {
  CognitoError,
  CognitoForbiddenError,
  CognitoInvalidOptionError,
  CognitoStepUpRequiredError,
  CognitoUnauthenticatedError
} from './errors.js'
import type { CognitoAccessTokenPayload, CognitoRequireAuthOptions, CognitoUser } from './types.js'
import { isBrowserNavigation } from './util/accept.js'
import { safeReturnTo } from './util/return-to.js'

/**
 * `requireAuth(options)`: the options are compiled once into a frozen policy; the rules are plain functions of the
 * policy (each testable without Fastify); the guard is the small adapter that runs them as a preHandler.
 */

export interface GuardPolicy {
  readonly groups: readonly string[]
  readonly anyGroup: boolean
  readonly scopes: readonly string[]
  readonly redirectToLogin: boolean
  readonly maxAge: number | undefined
  readonly check: CognitoRequireAuthOptions['check']
}

function validateNames (value: unknown, option: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new CognitoInvalidOptionError(`fastify-cognito: requireAuth option "${option}" must be an array of non-empty strings`)
  }
  return value
}

function validateMaxAge (value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new CognitoInvalidOptionError('fastify-cognito: requireAuth option "maxAge" must be a whole number of seconds >= 0')
  }
  return value
}

/** Validates a guard's options (a CognitoInvalidOptionError names the bad one) into its policy. */
export function compilePolicy (options: CognitoRequireAuthOptions = {}): GuardPolicy {
  const check = options.check
  if (check !== undefined && typeof check !== 'function') throw new CognitoInvalidOptionError('fastify-cognito: requireAuth option "check" must be a function')
  return Object.freeze({
    groups: Object.freeze(validateNames(options.groups, 'groups')),
    anyGroup: options.anyGroup === true,
    scopes: Object.freeze(validateNames(options.scopes, 'scopes')),
    redirectToLogin: options.redirectToLogin !== false,
    maxAge: validateMaxAge(options.maxAge),
    check
  })
}

/** Step-up (RFC 9470): the token must prove a sign-in at most `maxAge` seconds ago. */
export function assertRecentSignIn (claims: CognitoAccessTokenPayload, maxAge: number, now: number): void {
  const authTime = claims.auth_time
  if (typeof authTime !== 'number' || now - authTime > maxAge) throw new CognitoStepUpRequiredError(maxAge)
}

/** The 403 when the user lacks a required scope or group; undefined when the policy's groups and scopes hold. */
export function forbiddenError (policy: GuardPolicy, user: CognitoUser): CognitoForbiddenError | undefined {
  const { scopes, groups, anyGroup } = policy
  // Most guards ask for no scope or no group: then no array and no closure per request.
  const missingScopes = scopes.length === 0 ? scopes : scopes.filter((scope) => !user.scopes.includes(scope))
  const missingGroups = groups.length === 0 ? groups : groups.filter((group) => !user.groups.includes(group))
  const groupsOk = groups.length === 0 || (anyGroup ? missingGroups.length < groups.length : missingGroups.length === 0)
  if (missingScopes.length === 0 && groupsOk) return undefined
  return new CognitoForbiddenError(
    missingScopes.length > 0 ? 'The access token lacks a required scope' : 'The user is not in a required group',
    { groups: groupsOk ? [] : missingGroups, scopes: missingScopes }
  )
}

/** RFC 6750 3: the header value that tells a client why its bearer token was refused. */
export function wwwAuthenticate (error: CognitoError, scopes: readonly string[]): string {
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

/** Where a browser is sent to sign in: the login route, with `returnTo` and, for a step-up, `prompt=login`. */
export function loginRedirectTarget (loginPath: string, requestUrl: string, stepUp: boolean): string {
  const query = new URLSearchParams()
  const returnTo = safeReturnTo(requestUrl)
  if (returnTo !== undefined) query.set('returnTo', returnTo)
  // Cognito's managed-login cookie would sign the user in again silently: ask for credentials.
  if (stepUp) query.set('prompt', 'login')
  const search = query.toString()
  return search === '' ? loginPath : `${loginPath}?${search}`
}

/** A 401: a login redirect for browser navigations (the reply, answered), else the error with its WWW-Authenticate. */
function refuse (policy: GuardPolicy, context: CognitoContext, error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof CognitoError && error.statusCode === 401) {
    if (policy.redirectToLogin && isBrowserNavigation(request)) {
      reply.header('cache-control', 'no-store')
      return reply.redirect(loginRedirectTarget(context.paths.login, request.url, error instanceof CognitoStepUpRequiredError), 302)
    }
    reply.header('www-authenticate', wwwAuthenticate(error, policy.scopes))
  }
  throw error
}

/** Throws the 403 (with its WWW-Authenticate) when the user lacks a required scope or group. */
function assertAllowed (policy: GuardPolicy, user: CognitoUser, reply: FastifyReply): void {
  const error = forbiddenError(policy, user)
  if (error === undefined) return
  reply.header('www-authenticate', wwwAuthenticate(error, policy.scopes))
  throw error
}

function admit (request: FastifyRequest, authentication: Authentication): void {
  request.user = authentication.user
  request.tokenPayload = authentication.tokenPayload
}

/** The authentication with the step-up check: synchronous unless a refresh or a JWKS fetch is due. */
function authenticateFor (policy: GuardPolicy, context: CognitoContext, request: FastifyRequest, reply: FastifyReply): Authentication | Promise<Authentication> {
  const authenticating = authenticate(request, reply, context)
  const maxAge = policy.maxAge
  if (maxAge === undefined) return authenticating
  const recent = (authentication: Authentication): Authentication => {
    assertRecentSignIn(authentication.tokenPayload, maxAge, context.clock.seconds())
    return authentication
  }
  return authenticating instanceof Promise ? authenticating.then(recent) : recent(authenticating)
}

async function guardAsync (policy: GuardPolicy, context: CognitoContext, request: FastifyRequest, reply: FastifyReply, pending: Authentication | Promise<Authentication>): Promise<unknown> {
  let authentication: Authentication
  try {
    authentication = await pending
  } catch (error) {
    // An async hook that has answered returns the reply, so Fastify stops the chain here.
    return refuse(policy, context, error, request, reply)
  }
  assertAllowed(policy, authentication.user, reply)
  if (policy.check !== undefined && !(await policy.check(authentication.user, request))) {
    throw new CognitoForbiddenError('The request is not allowed by the route\'s access rule')
  }
  admit(request, authentication)
  return undefined
}

export function createRequireAuth (context: CognitoContext): (options?: CognitoRequireAuthOptions) => preHandlerAsyncHookHandler {
  return function requireAuth (options) {
    const policy = compilePolicy(options)
    /**
     * Fastify calls a hook with `done` and takes a returned promise as the hook's outcome instead. Most requests
     * present a token that is cached (or whose key is held), so the guard decides at once: it then calls `done` and
     * costs no promise and no microtask turn. Otherwise (a pending authentication, a `check` rule), or when called
     * directly as `guard(request, reply)`, it returns a promise, as the declared async hook type says.
     */
    return function cognitoGuard (this: unknown, request: FastifyRequest, reply: FastifyReply, done?: (error?: Error) => void): Promise<unknown> | undefined {
      let pending: Authentication | Promise<Authentication>
      try {
        pending = authenticateFor(policy, context, request, reply)
      } catch (error) {
        pending = Promise.reject(error)
      }
      if (done === undefined || pending instanceof Promise || policy.check !== undefined) return guardAsync(policy, context, request, reply, pending)
      try {
        assertAllowed(policy, pending.user, reply)
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
