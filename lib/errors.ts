/**
 * Every error the plugin raises is a CognitoError with a stable `code` (callers branch on it, never on the
 * message) and an HTTP `statusCode`, so Fastify's default error handler already answers correctly.
 * Messages never contain a token, a code, a verifier or a secret: they are safe to log and to show.
 * Each class is named after its code: `FST_COGNITO_INVALID_TOKEN` is `CognitoInvalidTokenError`.
 */

/** Every code a CognitoError can carry: `switch (error.code)` narrows on it. */
export type CognitoErrorCode =
  | 'FST_COGNITO_INVALID_OPTION'
  | 'FST_COGNITO_UNAUTHENTICATED'
  | 'FST_COGNITO_INVALID_TOKEN'
  | 'FST_COGNITO_TOKEN_EXPIRED'
  | 'FST_COGNITO_FORBIDDEN'
  | 'FST_COGNITO_LOGIN_STATE_MISSING'
  | 'FST_COGNITO_STATE_MISMATCH'
  | 'FST_COGNITO_INVALID_CALLBACK'
  | 'FST_COGNITO_AUTHORIZATION_ERROR'
  | 'FST_COGNITO_INVALID_GRANT'
  | 'FST_COGNITO_INVALID_CLIENT'
  | 'FST_COGNITO_TOKEN_REQUEST_REJECTED'
  | 'FST_COGNITO_SESSION_EXPIRED'
  | 'FST_COGNITO_SESSION_TOO_LARGE'
  | 'FST_COGNITO_STEP_UP_REQUIRED'
  | 'FST_COGNITO_LOGIN_REJECTED'
  | 'FST_COGNITO_CROSS_SITE_REQUEST'
  | 'FST_COGNITO_IDP_UNAVAILABLE'
  | 'FST_COGNITO_IDP_TIMEOUT'
  | 'FST_COGNITO_IDP_BAD_RESPONSE'
  | 'FST_COGNITO_SESSION_STORE_UNAVAILABLE'
  | 'FST_COGNITO_REFRESH_PENDING'

/**
 * Refusals that are part of normal operation: a visitor without a session, an expired token, a missing group, a
 * stale sign-in tab. Fastify logs 4xx errors at info level with the error's stack; for these a stack says nothing
 * (the code says it all), so theirs is one line and every refused request logs one short line. Other errors
 * (misconfiguration, Cognito faults) keep their stack.
 */
const EXPECTED_REFUSALS: ReadonlySet<CognitoErrorCode> = new Set<CognitoErrorCode>([
  'FST_COGNITO_UNAUTHENTICATED',
  'FST_COGNITO_INVALID_TOKEN',
  'FST_COGNITO_TOKEN_EXPIRED',
  'FST_COGNITO_FORBIDDEN',
  'FST_COGNITO_STEP_UP_REQUIRED',
  'FST_COGNITO_SESSION_EXPIRED',
  'FST_COGNITO_CROSS_SITE_REQUEST',
  'FST_COGNITO_LOGIN_STATE_MISSING',
  'FST_COGNITO_STATE_MISMATCH',
  'FST_COGNITO_INVALID_CALLBACK',
  'FST_COGNITO_AUTHORIZATION_ERROR',
  'FST_COGNITO_LOGIN_REJECTED'
])

export class CognitoError extends Error {
  readonly code: CognitoErrorCode
  readonly statusCode: number

  constructor (code: CognitoErrorCode, statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.statusCode = statusCode
    // V8 formats a stack only when it is read: replacing it also spares that work on every refused request.
    if (EXPECTED_REFUSALS.has(code)) this.stack = `${this.name} [${code}]: ${message}`
  }
}

/** A plugin option is missing or invalid. Thrown at `register` (or when a guard is created), never at request time. */
export class CognitoInvalidOptionError extends CognitoError {
  constructor (message: string) {
    super('FST_COGNITO_INVALID_OPTION', 500, message)
  }
}

/** No session and no bearer token: the request is anonymous. */
export class CognitoUnauthenticatedError extends CognitoError {
  constructor (message = 'Authentication required') {
    super('FST_COGNITO_UNAUTHENTICATED', 401, message)
  }
}

/** A token was presented but failed verification (signature, issuer, client, token_use, expiry, format). */
export class CognitoInvalidTokenError extends CognitoError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('FST_COGNITO_INVALID_TOKEN', 401, message, options)
  }
}

/** A token whose signature and claims are right but whose `exp` has passed (beyond `clockTolerance`). */
export class CognitoTokenExpiredError extends CognitoError {
  constructor () {
    super('FST_COGNITO_TOKEN_EXPIRED', 401, 'Token has expired')
  }
}

/** Authenticated, but missing a required group or scope. Never a login redirect: that would loop. */
export class CognitoForbiddenError extends CognitoError {
  readonly missingGroups: readonly string[]
  readonly missingScopes: readonly string[]

  constructor (message: string, missing: { groups?: readonly string[], scopes?: readonly string[] } = {}) {
    super('FST_COGNITO_FORBIDDEN', 403, message)
    this.missingGroups = missing.groups ?? []
    this.missingScopes = missing.scopes ?? []
  }
}

/** The login callback arrived without a login in progress in this browser (cookie missing, expired, blocked, other host). */
export class CognitoLoginStateMissingError extends CognitoError {
  constructor () {
    super('FST_COGNITO_LOGIN_STATE_MISSING', 400, 'No login in progress in this browser: the login transaction cookie is missing or expired. ' +
      'Likely causes: the sign-in was started on another host name than the redirect URI (localhost against 127.0.0.1), ' +
      'the browser blocks cookies, the sign-in took more than 10 minutes, or an old tab or bookmark of the sign-in page was used')
  }
}

/** The callback's `state` does not match any login started by this browser (login CSRF or a stale tab). */
export class CognitoStateMismatchError extends CognitoError {
  constructor () {
    super('FST_COGNITO_STATE_MISMATCH', 400, 'The state parameter does not match the login in progress')
  }
}

/** The callback request is malformed (no code, repeated parameters). */
export class CognitoInvalidCallbackError extends CognitoError {
  constructor (message: string) {
    super('FST_COGNITO_INVALID_CALLBACK', 400, message)
  }
}

/** Cognito redirected back with `?error=...` (the user denied access, a scope is invalid, ...). */
export class CognitoAuthorizationError extends CognitoError {
  /** The OAuth error code Cognito sent, reduced to `[a-z_]` characters; `unknown` when it had none. */
  readonly error: string

  constructor (error: string) {
    super('FST_COGNITO_AUTHORIZATION_ERROR', error === 'access_denied' ? 403 : 400, `The sign-in was not completed: ${error}`)
    this.error = error
  }
}

/**
 * Cognito's token endpoint refused the grant: the code was used, expired or the verifier does not match, or
 * the refresh token is revoked or expired (`invalid_grant`).
 */
export class CognitoInvalidGrantError extends CognitoError {
  constructor () {
    super('FST_COGNITO_INVALID_GRANT', 400, 'Cognito rejected the grant (invalid_grant): the code or refresh token is used, expired or revoked')
  }
}

/** Cognito refused the app client's credentials (`invalid_client`): check clientId and clientSecret. */
export class CognitoInvalidClientError extends CognitoError {
  constructor () {
    super('FST_COGNITO_INVALID_CLIENT', 401, 'Cognito rejected the app client credentials (invalid_client)')
  }
}

/** Any other OAuth error answer from Cognito's token or revoke endpoint (invalid_request, unauthorized_client, ...). */
export class CognitoTokenRequestRejectedError extends CognitoError {
  readonly error: string

  constructor (error: string) {
    super('FST_COGNITO_TOKEN_REQUEST_REJECTED', 400, `Cognito rejected the token request: ${error}`)
    this.error = error
  }
}

/** The session exists but cannot be refreshed any more (no refresh token, or Cognito said invalid_grant). */
export class CognitoSessionExpiredError extends CognitoError {
  constructor (message = 'The session has expired: sign in again') {
    super('FST_COGNITO_SESSION_EXPIRED', 401, message)
  }
}

/**
 * The session would not fit in the browser's cookies: at sign-in, for a user with very many groups or a large
 * `onLogin` return value. No session is written.
 */
export class CognitoSessionTooLargeError extends CognitoError {
  readonly size: number
  readonly limit: number

  constructor (size: number, limit: number) {
    super('FST_COGNITO_SESSION_TOO_LARGE', 500, `The session needs ${size} bytes of cookies, over the budget of ${limit} (option maxSessionCookieBytes). ` +
      'Put fewer groups or attributes in the tokens (a pre token generation trigger), keep less from onLogin, or raise the budget if every proxy in front of the app accepts larger requests')
    this.size = size
    this.limit = limit
  }
}

/**
 * Step-up (RFC 9470): the sign-in is older than the guard's `maxAge`. The client must sign in again
 * (`prompt=login`); the WWW-Authenticate header carries `insufficient_user_authentication` and `max_age`.
 */
export class CognitoStepUpRequiredError extends CognitoError {
  readonly maxAge: number

  constructor (maxAge: number) {
    super('FST_COGNITO_STEP_UP_REQUIRED', 401, `A sign-in of at most ${maxAge} seconds ago is required`)
    this.maxAge = maxAge
  }
}

/** The app's `onLogin` hook refused the sign-in (for example a disabled account). No session was created. */
export class CognitoLoginRejectedError extends CognitoError {
  constructor (message = 'The sign-in was refused', options?: { cause?: unknown }) {
    super('FST_COGNITO_LOGIN_REJECTED', 403, message, options)
  }
}

/** A state-changing route was called from another site (Origin / Sec-Fetch-Site). */
export class CognitoCrossSiteRequestError extends CognitoError {
  constructor () {
    super('FST_COGNITO_CROSS_SITE_REQUEST', 403, 'Cross-site request refused')
  }
}

/** Cognito (or the JWKS endpoint) could not be reached. The request may be retried. */
export class CognitoIdpUnavailableError extends CognitoError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('FST_COGNITO_IDP_UNAVAILABLE', 503, message, options)
  }
}

/** Cognito did not answer in time (`httpTimeout`). */
export class CognitoIdpTimeoutError extends CognitoError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('FST_COGNITO_IDP_TIMEOUT', 504, message, options)
  }
}

/** Cognito answered with something that is not a valid reply (5xx, not JSON, too large, tokens missing). */
export class CognitoIdpBadResponseError extends CognitoError {
  constructor (message: string, options?: { cause?: unknown }) {
    super('FST_COGNITO_IDP_BAD_RESPONSE', 502, message, options)
  }
}

/**
 * The session store (Redis) failed or did not answer within `sessionStoreTimeout`: whether the session exists is
 * unknown, so the request is neither let through nor signed out (the cookie is left alone). Retry shortly.
 */
export class CognitoSessionStoreUnavailableError extends CognitoError {
  /** Fastify's error handler sends these headers with the reply. */
  readonly headers = { 'retry-after': '1' }

  constructor (message = 'The session store is unavailable: retry shortly', options?: { cause?: unknown }) {
    super('FST_COGNITO_SESSION_STORE_UNAVAILABLE', 503, message, options)
  }
}

/**
 * Another instance is refreshing this session's tokens and did not finish in time, and the current access token has
 * expired. Retry shortly: the refreshed session will be there.
 */
export class CognitoRefreshPendingError extends CognitoError {
  /** Fastify's error handler sends these headers with the reply. */
  readonly headers = { 'retry-after': '1' }

  constructor (message = 'The session is being refreshed by another instance: retry shortly') {
    super('FST_COGNITO_REFRESH_PENDING', 503, message)
  }
}

/** @deprecated Renamed {@link CognitoInvalidOptionError}, after its code `FST_COGNITO_INVALID_OPTION`. */
export const CognitoOptionsError = CognitoInvalidOptionError
/** @deprecated Renamed {@link CognitoInvalidOptionError}, after its code `FST_COGNITO_INVALID_OPTION`. */
// A value and a type of the same name, as a class is: `instanceof` and annotations keep working.
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type CognitoOptionsError = CognitoInvalidOptionError
/** @deprecated Renamed {@link CognitoTokenRequestRejectedError}, after its code `FST_COGNITO_TOKEN_REQUEST_REJECTED`. */
export const CognitoTokenRequestError = CognitoTokenRequestRejectedError
/** @deprecated Renamed {@link CognitoTokenRequestRejectedError}, after its code `FST_COGNITO_TOKEN_REQUEST_REJECTED`. */
// A value and a type of the same name, as a class is: `instanceof` and annotations keep working.
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type CognitoTokenRequestError = CognitoTokenRequestRejectedError
/** @deprecated Renamed {@link CognitoIdpBadResponseError}, after its code `FST_COGNITO_IDP_BAD_RESPONSE`. */
export const CognitoIdpResponseError = CognitoIdpBadResponseError
/** @deprecated Renamed {@link CognitoIdpBadResponseError}, after its code `FST_COGNITO_IDP_BAD_RESPONSE`. */
// A value and a type of the same name, as a class is: `instanceof` and annotations keep working.
// eslint-disable-next-line @typescript-eslint/no-redeclare
export type CognitoIdpResponseError = CognitoIdpBadResponseError
