import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { authenticate, presentsNoCredentials, type Authentication } from './authenticate.js'
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
  readonly anyScope: boolean
  /** Empty: every client the registration accepts. */
  readonly clientIds: readonly string[]
  readonly optional: boolean
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

/**
 * Validates a guard's options (a CognitoInvalidOptionError names the bad one) into its policy. `acceptedClientIds`
 * are the registration's: a guard can only narrow them.
 */
export function compilePolicy (options: CognitoRequireAuthOptions = {}, acceptedClientIds: readonly string[] = []): GuardPolicy {
  const check = options.check
  if (check !== undefined && typeof check !== 'function') throw new CognitoInvalidOptionError('fastify-cognito: requireAuth option "check" must be a function')
  const clientIds = validateNames(options.clientIds, 'clientIds')
  const unknown = clientIds.filter((id) => !acceptedClientIds.includes(id))
  if (unknown.length > 0) {
    throw new CognitoInvalidOptionError(`fastify-cognito: requireAuth option "clientIds" names ${unknown.map((id) => `"${id}"`).join(', ')}, which the registration does not accept (option "clientId")`)
  }
  return Object.freeze({
    groups: Object.freeze(validateNames(options.groups, 'groups')),
    anyGroup: options.anyGroup === true,
    scopes: Object.freeze(validateNames(options.scopes, 'scopes')),
    anyScope: options.anyScope === true,
    clientIds: Object.freeze(clientIds),
    optional: options.optional === true,
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

const NONE: readonly string[] = Object.freeze([])

/**
 * What of `required` is not in `held`: nothing when all of them are there, or one is and `any` is set. Allocates
 * only on a miss: a guard with scopes runs this on every request.
 */
function missingOf (required: readonly string[], held: readonly string[], any: boolean): readonly string[] {
  let missing: string[] | undefined
  for (let i = 0; i < required.length; i++) {
    const name = required[i] as string
    if (!held.includes(name)) (missing ??= []).push(name)
  }
  if (missing === undefined || (any && missing.length < required.length)) return NONE
  return missing
}

/** The 403 when the token's client, scopes or groups do not meet the policy; undefined when they do. */
export function forbiddenError (policy: GuardPolicy, user: CognitoUser): CognitoForbiddenError | undefined {
  if (policy.clientIds.length > 0 && !policy.clientIds.includes(user.clientId)) {
    return new CognitoForbiddenError('The access token was issued to an app client this route does not accept')
  }
  const missingScopes = missingOf(policy.scopes, user.scopes, policy.anyScope)
  const missingGroups = missingOf(policy.groups, user.groups, policy.anyGroup)
  if (missingScopes.length === 0 && missingGroups.length === 0) return undefined
  return new CognitoForbiddenError(
    missingScopes.length > 0 ? 'The access token lacks a required scope' : 'The user is not in a required group',
    { groups: missingGroups, scopes: missingScopes }
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
    // A bearer-only registration has no login page: an API client gets its 401 and WWW-Authenticate.
    if (policy.redirectToLogin && context.signIn !== undefined && isBrowserNavigation(request)) {
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

/** authenticateFor, with a synchronous throw turned into a rejection (the refusal is then answered in one place). */
function startAuthentication (policy: GuardPolicy, context: CognitoContext, request: FastifyRequest, reply: FastifyReply): Authentication | Promise<Authentication> {
  try {
    return authenticateFor(policy, context, request, reply)
  } catch (error) {
    return Promise.reject(error)
  }
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

/** Every guard `requireAuth` made, with its policy: how the OpenAPI documentation (openapi.ts) finds guarded routes. */
const guardPolicies = new WeakMap<object, GuardPolicy>()

/** The policy of a guard made by `requireAuth`; undefined for any other function. */
export function guardPolicyOf (fn: unknown): GuardPolicy | undefined {
  return typeof fn === 'function' ? guardPolicies.get(fn) : undefined
}

export function createRequireAuth (context: CognitoContext): (options?: CognitoRequireAuthOptions) => preHandlerAsyncHookHandler {
  return function requireAuth (options) {
    const policy = compilePolicy(options, context.options.clientIds)
    /**
     * Fastify calls a hook with `done` and takes a returned promise as the hook's outcome instead. Most requests
     * present a token that is cached (or whose key is held), so the guard decides at once: it then calls `done` and
     * costs no promise and no microtask turn. Otherwise (a pending authentication, a `check` rule), or when called
     * directly as `guard(request, reply)`, it returns a promise, as the declared async hook type says.
     */
    const guard = function cognitoGuard (this: unknown, request: FastifyRequest, reply: FastifyReply, done?: (error?: Error) => void): Promise<unknown> | undefined {
      // Anonymous on an optional route: the handler runs with request.user null.
      if (policy.optional) {
        const anonymous = presentsNoCredentials(request, context)
        if (anonymous instanceof Promise) {
          return anonymous.then((yes) => yes ? undefined : guardAsync(policy, context, request, reply, startAuthentication(policy, context, request, reply)))
        }
        if (anonymous) {
          if (done === undefined) return Promise.resolve(undefined)
          done()
          return undefined
        }
      }
      const pending = startAuthentication(policy, context, request, reply)
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
    guardPolicies.set(guard, policy)
    return guard
  }
}
