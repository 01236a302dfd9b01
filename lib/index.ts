import { fastifyCognito } from './plugin.js'

export { fastifyCognito }
export default fastifyCognito

export type { CognitoAuthorizationParams } from './cognito/sign-in-params.js'
export type { FastifyCognitoOptions } from './options.js'
export type {
  CognitoAccessTokenClaims,
  CognitoAccessTokenPayload,
  CognitoDecorator,
  CognitoIdTokenClaims,
  CognitoIdTokenPayload,
  CognitoLoginContext,
  CognitoRequestHelpers,
  CognitoRequireAuthOptions,
  CognitoUser,
  FastifyCognitoClaims,
  FastifyCognitoSessionData
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
  CognitoLoginRejectedError,
  CognitoLoginStateMissingError,
  CognitoOptionsError,
  CognitoSessionExpiredError,
  CognitoStateMismatchError,
  CognitoStepUpRequiredError,
  CognitoTokenExpiredError,
  CognitoTokenRequestError,
  CognitoUnauthenticatedError
} from './errors.js'
