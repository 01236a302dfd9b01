import { fastifyCognito } from './plugin.js'

export { fastifyCognito }
export default fastifyCognito

export type { FastifyCognitoOptions } from './options.js'
export type {
  CognitoAccessTokenClaims,
  CognitoAccessTokenPayload,
  CognitoDecorator,
  CognitoIdTokenClaims,
  CognitoIdTokenPayload,
  CognitoRequireAuthOptions,
  CognitoUser,
  FastifyCognitoClaims
} from './types.js'
export {
  CognitoAuthorizationError,
  CognitoCrossSiteRequestError,
  CognitoError,
  CognitoForbiddenError,
  CognitoIdpResponseError,
  CognitoIdpTimeoutError,
  CognitoIdpUnavailableError,
  CognitoInvalidCallbackError,
  CognitoInvalidClientError,
  CognitoInvalidGrantError,
  CognitoInvalidTokenError,
  CognitoLoginStateMissingError,
  CognitoOptionsError,
  CognitoSessionExpiredError,
  CognitoStateMismatchError,
  CognitoTokenExpiredError,
  CognitoTokenRequestError,
  CognitoUnauthenticatedError
} from './errors.js'
