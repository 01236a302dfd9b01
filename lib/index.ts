import { fastifyCognito } from './plugin.js'

export { fastifyCognito }
export default fastifyCognito

export type { CognitoAuthorizationParams } from './cognito/sign-in-params.js'
export type { CognitoClientCredentials, CognitoClientCredentialsOptions } from './cognito/client-credentials.js'
export type {
  CognitoAccessTokenClaims,
  CognitoAccessTokenPayload,
  CognitoDecorator,
  CognitoIdTokenClaims,
  CognitoHumanUser,
  CognitoIdTokenPayload,
  CognitoLoginContext,
  CognitoMachineUser,
  CognitoRequestHelpers,
  CognitoRequireAuthOptions,
  CognitoUser,
  CognitoUserBase,
  FastifyCognitoClaims,
  FastifyCognitoSessionData
} from './types.js'
export type {
  CognitoCommonOptions,
  CognitoMultiPoolOptions,
  CognitoOpenApiOptions,
  CognitoSinglePoolOptions,
  CognitoUserPoolOptions,
  FastifyCognitoOptions
} from './types-options.js'
export type { CognitoErrorCode } from './errors.js'
export type { CognitoSessionStore, CognitoStoreSubscription, CognitoStoreSubscriber } from './types-store.js'
export {
  CognitoAuthorizationError,
  CognitoCrossSiteRequestError,
  CognitoError,
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
  CognitoRefreshPendingError,
  CognitoSessionExpiredError,
  CognitoSessionStoreUnavailableError,
  CognitoSessionTooLargeError,
  CognitoStateMismatchError,
  CognitoStepUpRequiredError,
  CognitoTokenExpiredError,
  CognitoTokenRequestError,
  CognitoTokenRequestRejectedError,
  CognitoUnauthenticatedError
} from './errors.js'
