import type { GuardPolicy } from '../guards.js'
import type { ResolvedOpenApiOptions } from '../options.js'

/**
 * What the plugin adds to an OpenAPI 3 document: pure functions of the options and the guards' policies, with no
 * import of @fastify/swagger (register.ts applies them to the routes @fastify/swagger collects).
 */

type Schema = Record<string, unknown>
export type SecurityRequirement = Record<string, string[]>

/** What the OAuth2 scheme needs: present only with browser sign-in. */
export interface OAuth2Endpoints {
  /** The user pool domain, without a trailing slash. */
  domain: string
  /** The scopes the app asks for at sign-in. */
  scopes: readonly string[]
}

/** The body of every error answer (Fastify's default error handler, with the CognitoError's `code`). */
export const ERROR_BODY_SCHEMA: Schema = Object.freeze({
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer', example: 401 },
    code: { type: 'string', example: 'FST_COGNITO_UNAUTHENTICATED' },
    error: { type: 'string', example: 'Unauthorized' },
    message: { type: 'string' }
  }
})

function errorResponse (description: string): Schema {
  return { ...ERROR_BODY_SCHEMA, description }
}

const UNAUTHORIZED = 'Not signed in, or the access token is invalid or expired (FST_COGNITO_UNAUTHENTICATED, FST_COGNITO_INVALID_TOKEN, FST_COGNITO_TOKEN_EXPIRED, FST_COGNITO_SESSION_EXPIRED, FST_COGNITO_STEP_UP_REQUIRED); see the WWW-Authenticate header'
const FORBIDDEN = 'Signed in, but the token lacks a required scope or group, or was issued to another app client (FST_COGNITO_FORBIDDEN)'

/** Whether a guard can answer 403: it has a rule beyond "signed in". */
export function canForbid (policy: GuardPolicy): boolean {
  return policy.groups.length > 0 || policy.scopes.length > 0 || policy.clientIds.length > 0 || policy.check !== undefined
}

/**
 * The route's security requirement: alternatives, any one of which suffices. The OAuth2 scheme with the guard's
 * scopes (one alternative per scope with `anyScope`), the bearer scheme, and `{}` (anonymous) for an optional guard.
 */
export function securityRequirement (policy: GuardPolicy, names: ResolvedOpenApiOptions, signIn: boolean): SecurityRequirement[] {
  const alternatives: SecurityRequirement[] = []
  if (signIn) {
    const scopeSets = policy.anyScope && policy.scopes.length > 1 ? policy.scopes.map((scope) => [scope]) : [[...policy.scopes]]
    for (const scopes of scopeSets) alternatives.push({ [names.oauth2SchemeName]: scopes })
  }
  alternatives.push({ [names.bearerSchemeName]: [] })
  if (policy.optional) alternatives.push({})
  return alternatives
}

function hasResponse (response: Schema, status: number): boolean {
  return Object.hasOwn(response, String(status)) || Object.hasOwn(response, '4xx') || Object.hasOwn(response, '4XX')
}

/**
 * A guarded route's schema, documented: its security requirement (unless it declares one) and the 401 (and 403 when
 * the guard has rules) with the error body (unless it declares them). A new object: the route's own is not touched.
 */
export function documentGuardedSchema (schema: Schema | undefined, policy: GuardPolicy, names: ResolvedOpenApiOptions, signIn: boolean): Schema {
  const given = schema ?? {}
  const response: Schema = given.response === undefined
    // @fastify/swagger's own default for a route without responses, which the 401 would otherwise replace.
    ? { 200: { description: 'Default Response' } }
    : { ...(given.response as Schema) }
  if (!hasResponse(response, 401)) response['401'] = errorResponse(UNAUTHORIZED)
  if (canForbid(policy) && !hasResponse(response, 403)) response['403'] = errorResponse(FORBIDDEN)
  return {
    ...given,
    security: given.security ?? securityRequirement(policy, names, signIn),
    response
  }
}

/** `components.securitySchemes`: the OAuth2 scheme (browser sign-in only) and the bearer scheme. */
export function securitySchemes (names: ResolvedOpenApiOptions, oauth2: OAuth2Endpoints | undefined, guardScopes: Iterable<string>): Record<string, Schema> {
  const schemes: Record<string, Schema> = {}
  if (oauth2 !== undefined) {
    const scopes: Record<string, string> = {}
    for (const scope of oauth2.scopes) scopes[scope] = 'Asked for at sign-in'
    for (const scope of guardScopes) scopes[scope] ??= 'Required by a route'
    schemes[names.oauth2SchemeName] = {
      type: 'oauth2',
      description: 'Sign in with the Cognito user pool (authorization code with PKCE, a public app client).',
      flows: {
        authorizationCode: {
          authorizationUrl: `${oauth2.domain}/oauth2/authorize`,
          tokenUrl: `${oauth2.domain}/oauth2/token`,
          refreshUrl: `${oauth2.domain}/oauth2/token`,
          scopes
        }
      }
    }
  }
  schemes[names.bearerSchemeName] = {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A Cognito access token: `Authorization: Bearer <access token>`.'
  }
  return schemes
}

const REDIRECT = (description: string): Schema => ({ description, type: 'null' })
const CROSS_SITE = errorResponse('Sent by another site (FST_COGNITO_CROSS_SITE_REQUEST)')
const text = (description: string): Schema => ({ type: 'string', description })

/** The documentation of the plugin's routes, by path relative to the prefix and method. */
export function pluginRouteSchema (route: 'login' | 'callback' | 'refresh' | 'logout', tag: string): Schema {
  const tags = [tag]
  switch (route) {
    case 'login':
      return {
        tags,
        summary: 'Start a sign-in',
        description: 'Redirects the browser to Cognito\'s managed login (authorization code with PKCE).',
        querystring: {
          type: 'object',
          properties: {
            returnTo: text('A path of this app to land on after the sign-in'),
            identity_provider: text('Skip the managed login: sign in with this identity provider'),
            idp_identifier: text('Skip the managed login: an identity provider identifier'),
            lang: text('Language of the managed login'),
            login_hint: text('Prefills the user name'),
            prompt: { type: 'string', enum: ['login', 'none', 'select_account', 'consent'], description: 'login: ask for credentials again' }
          }
        },
        response: { 302: REDIRECT('To Cognito\'s managed login') }
      }
    case 'callback':
      return {
        tags,
        summary: 'Cognito\'s redirect back after a sign-in',
        description: 'The callback URL registered on the app client: completes the sign-in and sets the session cookie.',
        querystring: {
          type: 'object',
          properties: { code: text('The authorization code'), state: text('The login transaction\'s state'), error: text('Cognito\'s error'), error_description: text('Cognito\'s error description') }
        },
        response: {
          302: REDIRECT('Signed in: to `returnTo` or `afterLoginRedirect`'),
          400: errorResponse('No login in progress, a state mismatch or a rejected code'),
          403: errorResponse('The user refused, or `onLogin` refused the sign-in'),
          502: errorResponse('Cognito answered with something unexpected')
        }
      }
    case 'refresh':
      return {
        tags,
        summary: 'Refresh the session\'s tokens now',
        response: {
          200: { description: 'Refreshed', type: 'object', properties: { expiresAt: { type: 'integer', description: 'When the new access token expires, epoch seconds' } } },
          401: errorResponse('No session, or it has ended'),
          403: CROSS_SITE
        }
      }
    case 'logout':
      return {
        tags,
        summary: 'Sign out',
        description: 'Revokes the refresh token, clears the session cookie and redirects to Cognito\'s logout.',
        response: { 302: REDIRECT('To Cognito\'s logout, then to `logoutUri`'), 403: CROSS_SITE }
      }
  }
}
