import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import * as errors from '../lib/errors.js'
import {
  CognitoAuthorizationError,
  CognitoCrossSiteRequestError,
  CognitoError,
  type CognitoErrorCode,
  CognitoForbiddenError,
  CognitoIdpBadResponseError,
  CognitoIdpResponseError,
  CognitoIdpTimeoutError,
  CognitoIdpUnavailableError,
  CognitoInvalidCallbackError,
  CognitoInvalidClientError,
  CognitoInvalidGrantError,
  CognitoInvalidOptionError,
  CognitoInvalidTokenError,
  CognitoLoginRejectedError,
  CognitoLoginStateMissingError,
  CognitoOptionsError,
  CognitoSessionExpiredError,
  CognitoSessionTooLargeError,
  CognitoStateMismatchError,
  CognitoStepUpRequiredError,
  CognitoTokenExpiredError,
  CognitoTokenRequestError,
  CognitoTokenRequestRejectedError,
  CognitoUnauthenticatedError
} from '../lib/errors.js'
import * as entry from '../lib/index.js'

/**
 * One row per code of the union: the type makes this table list every code exactly once (a missing or unknown key
 * does not compile), and each row builds an error of the class that carries that code.
 */
const BY_CODE: { readonly [C in CognitoErrorCode]: { status: number, make: () => CognitoError } } = {
  FST_COGNITO_INVALID_OPTION: { status: 500, make: () => new CognitoInvalidOptionError('fastify-cognito: option "x" is bad') },
  FST_COGNITO_UNAUTHENTICATED: { status: 401, make: () => new CognitoUnauthenticatedError() },
  FST_COGNITO_INVALID_TOKEN: { status: 401, make: () => new CognitoInvalidTokenError('Token signature is invalid') },
  FST_COGNITO_TOKEN_EXPIRED: { status: 401, make: () => new CognitoTokenExpiredError() },
  FST_COGNITO_FORBIDDEN: { status: 403, make: () => new CognitoForbiddenError('The user is not in a required group') },
  FST_COGNITO_LOGIN_STATE_MISSING: { status: 400, make: () => new CognitoLoginStateMissingError() },
  FST_COGNITO_STATE_MISMATCH: { status: 400, make: () => new CognitoStateMismatchError() },
  FST_COGNITO_INVALID_CALLBACK: { status: 400, make: () => new CognitoInvalidCallbackError('The callback has no valid authorization code') },
  FST_COGNITO_AUTHORIZATION_ERROR: { status: 400, make: () => new CognitoAuthorizationError('invalid_scope') },
  FST_COGNITO_INVALID_GRANT: { status: 400, make: () => new CognitoInvalidGrantError() },
  FST_COGNITO_INVALID_CLIENT: { status: 401, make: () => new CognitoInvalidClientError() },
  FST_COGNITO_TOKEN_REQUEST_REJECTED: { status: 400, make: () => new CognitoTokenRequestRejectedError('unauthorized_client') },
  FST_COGNITO_SESSION_EXPIRED: { status: 401, make: () => new CognitoSessionExpiredError() },
  FST_COGNITO_SESSION_TOO_LARGE: { status: 500, make: () => new CognitoSessionTooLargeError(40_000, 30_400) },
  FST_COGNITO_STEP_UP_REQUIRED: { status: 401, make: () => new CognitoStepUpRequiredError(300) },
  FST_COGNITO_LOGIN_REJECTED: { status: 403, make: () => new CognitoLoginRejectedError() },
  FST_COGNITO_CROSS_SITE_REQUEST: { status: 403, make: () => new CognitoCrossSiteRequestError() },
  FST_COGNITO_IDP_UNAVAILABLE: { status: 503, make: () => new CognitoIdpUnavailableError('Cognito token endpoint could not be reached') },
  FST_COGNITO_IDP_TIMEOUT: { status: 504, make: () => new CognitoIdpTimeoutError('Cognito token endpoint did not answer within 5000 ms') },
  FST_COGNITO_IDP_BAD_RESPONSE: { status: 502, make: () => new CognitoIdpBadResponseError('Cognito token endpoint answered 500') },
  FST_COGNITO_SESSION_STORE_UNAVAILABLE: { status: 503, make: () => new errors.CognitoSessionStoreUnavailableError() },
  FST_COGNITO_REFRESH_PENDING: { status: 503, make: () => new errors.CognitoRefreshPendingError() }
}

/** The subclasses of CognitoError that errors.ts exports, each once (a deprecated alias is the same class). */
function exportedSubclasses (): Set<typeof CognitoError> {
  const classes = new Set<typeof CognitoError>()
  for (const value of Object.values(errors)) {
    if (typeof value === 'function' && value.prototype instanceof CognitoError) classes.add(value as typeof CognitoError)
  }
  return classes
}

/** FST_COGNITO_IDP_BAD_RESPONSE -> CognitoIdpBadResponseError (FST_COGNITO_AUTHORIZATION_ERROR -> CognitoAuthorizationError) */
function classNameOf (code: string): string {
  const words = code.replace(/^FST_COGNITO_/, '').replace(/_ERROR$/, '').toLowerCase().split('_')
  return `Cognito${words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}Error`
}

for (const [code, { status, make }] of Object.entries(BY_CODE)) {
  test(`${code}: status ${status}, a CognitoError named after its code`, () => {
    const error = make()
    assert.equal(error.code, code)
    assert.equal(error.statusCode, status)
    assert.ok(error instanceof CognitoError)
    assert.ok(error instanceof Error)
    assert.equal(error.name, classNameOf(code))
    assert.equal(error.constructor.name, error.name)
    assert.ok(error.message.length > 0)
    assert.equal(typeof error.stack, 'string')
  })
}

test('each code maps to exactly one class, and every exported class carries a code of the union', () => {
  const classOfCode = new Map(Object.entries(BY_CODE).map(([code, { make }]) => [code, make().constructor]))
  const classes = exportedSubclasses()
  assert.equal(new Set(classOfCode.values()).size, classOfCode.size, 'no class serves two codes')
  assert.deepEqual(new Set(classOfCode.values()), classes, 'the classes of the codes are exactly the exported subclasses')
  assert.equal(classes.size, Object.keys(BY_CODE).length)
})

test('the public entry exports every error class and the deprecated aliases', () => {
  for (const errorClass of [CognitoError, ...exportedSubclasses()]) {
    assert.equal((entry as Record<string, unknown>)[errorClass.name], errorClass, errorClass.name)
  }
  assert.equal(entry.CognitoOptionsError, CognitoInvalidOptionError)
  assert.equal(entry.CognitoTokenRequestError, CognitoTokenRequestRejectedError)
  assert.equal(entry.CognitoIdpResponseError, CognitoIdpBadResponseError)
})

test('the deprecated names are the renamed classes themselves: instanceof and codes keep working', () => {
  assert.equal(CognitoOptionsError, CognitoInvalidOptionError)
  assert.equal(CognitoTokenRequestError, CognitoTokenRequestRejectedError)
  assert.equal(CognitoIdpResponseError, CognitoIdpBadResponseError)
  const error = new CognitoOptionsError('fastify-cognito: option "x" is bad')
  assert.ok(error instanceof CognitoInvalidOptionError)
  assert.equal(error.name, 'CognitoInvalidOptionError')
  assert.ok(new CognitoIdpBadResponseError('x') instanceof CognitoIdpResponseError)
  assert.equal(new CognitoTokenRequestError('invalid_request').code, 'FST_COGNITO_TOKEN_REQUEST_REJECTED')
})

test('the base class keeps what it is given, and a cause', () => {
  const cause = new Error('socket hang up')
  const error = new CognitoError('FST_COGNITO_IDP_UNAVAILABLE', 503, 'Cognito could not be reached', { cause })
  assert.equal(error.name, 'CognitoError')
  assert.equal(error.code, 'FST_COGNITO_IDP_UNAVAILABLE')
  assert.equal(error.statusCode, 503)
  assert.equal(error.message, 'Cognito could not be reached')
  assert.equal(error.cause, cause)
  assert.equal(new CognitoError('FST_COGNITO_FORBIDDEN', 403, 'x').cause, undefined)
})

test('the classes that take a cause pass it on', () => {
  const cause = new Error('underlying')
  for (const error of [
    new CognitoInvalidTokenError('x', { cause }),
    new CognitoLoginRejectedError('x', { cause }),
    new CognitoIdpUnavailableError('x', { cause }),
    new CognitoIdpTimeoutError('x', { cause }),
    new CognitoIdpBadResponseError('x', { cause })
  ]) {
    assert.equal(error.cause, cause, error.name)
  }
})

test('default messages', () => {
  assert.equal(new CognitoUnauthenticatedError().message, 'Authentication required')
  assert.equal(new CognitoUnauthenticatedError('The Authorization header is not of the form "Bearer <token>"').message, 'The Authorization header is not of the form "Bearer <token>"')
  assert.equal(new CognitoSessionExpiredError().message, 'The session has expired: sign in again')
  assert.equal(new CognitoLoginRejectedError().message, 'The sign-in was refused')
  assert.equal(new CognitoTokenExpiredError().message, 'Token has expired')
  assert.equal(new CognitoCrossSiteRequestError().message, 'Cross-site request refused')
})

test('CognitoAuthorizationError: 403 for access_denied, 400 for any other error, which it keeps', () => {
  const denied = new CognitoAuthorizationError('access_denied')
  assert.equal(denied.statusCode, 403)
  assert.equal(denied.error, 'access_denied')
  assert.equal(denied.message, 'The sign-in was not completed: access_denied')
  const other = new CognitoAuthorizationError('unknown')
  assert.equal(other.statusCode, 400)
  assert.equal(other.error, 'unknown')
})

test('CognitoForbiddenError lists what is missing, empty lists by default', () => {
  const error = new CognitoForbiddenError('The access token lacks a required scope', { scopes: ['orders/read'] })
  assert.deepEqual(error.missingScopes, ['orders/read'])
  assert.deepEqual(error.missingGroups, [])
  const bare = new CognitoForbiddenError('The request is not allowed by the route\'s access rule')
  assert.deepEqual([bare.missingGroups, bare.missingScopes], [[], []])
  assert.deepEqual(new CognitoForbiddenError('x', { groups: ['admin'] }).missingGroups, ['admin'])
})

test('the errors with details keep them: token request error, session size, step-up age', () => {
  const rejected = new CognitoTokenRequestRejectedError('unsupported_grant_type')
  assert.equal(rejected.error, 'unsupported_grant_type')
  assert.equal(rejected.message, 'Cognito rejected the token request: unsupported_grant_type')
  const tooLarge = new CognitoSessionTooLargeError(40_000, 30_400)
  assert.deepEqual([tooLarge.size, tooLarge.limit], [40_000, 30_400])
  assert.match(tooLarge.message, /40000 bytes .* budget of 30400 \(option maxSessionCookieBytes\)/)
  const stepUp = new CognitoStepUpRequiredError(300)
  assert.equal(stepUp.maxAge, 300)
  assert.equal(stepUp.message, 'A sign-in of at most 300 seconds ago is required')
})

test('a switch on code narrows to the class', () => {
  const describe = (error: CognitoError): string => {
    switch (error.code) {
      case 'FST_COGNITO_FORBIDDEN': return 'forbidden'
      case 'FST_COGNITO_IDP_TIMEOUT': return 'timeout'
      default: return 'other'
    }
  }
  assert.equal(describe(BY_CODE.FST_COGNITO_FORBIDDEN.make()), 'forbidden')
  assert.equal(describe(BY_CODE.FST_COGNITO_IDP_TIMEOUT.make()), 'timeout')
  assert.equal(describe(BY_CODE.FST_COGNITO_INVALID_GRANT.make()), 'other')
})

test('the two store errors: 503 with Retry-After: 1 (Fastify sends error.headers), default messages, a cause kept', async (t) => {
  const unavailable = new errors.CognitoSessionStoreUnavailableError()
  assert.equal(unavailable.message, 'The session store is unavailable: retry shortly')
  assert.deepEqual(unavailable.headers, { 'retry-after': '1' })
  const cause = new Error('ECONNREFUSED')
  assert.equal(new errors.CognitoSessionStoreUnavailableError('down', { cause }).cause, cause)
  const pending = new errors.CognitoRefreshPendingError()
  assert.equal(pending.message, 'The session is being refreshed by another instance: retry shortly')
  assert.deepEqual(pending.headers, { 'retry-after': '1' })

  const app = Fastify()
  t.after(async () => { await app.close() })
  app.get('/store', async () => { throw new errors.CognitoSessionStoreUnavailableError() })
  app.get('/pending', async () => { throw new errors.CognitoRefreshPendingError() })
  for (const [url, code] of [['/store', 'FST_COGNITO_SESSION_STORE_UNAVAILABLE'], ['/pending', 'FST_COGNITO_REFRESH_PENDING']]) {
    const response = await app.inject({ url })
    assert.equal(response.statusCode, 503)
    assert.equal(response.headers['retry-after'], '1')
    assert.equal(response.json<{ code: string }>().code, code)
  }
})
