export { startLocalCognito } from './local-cognito/index.js'
export type {
  LocalCognito,
  LocalCognitoOptions,
  LocalCognitoUser,
  LocalCognitoClient,
  LocalCognitoFederatedUser,
  LocalCognitoIdentityProvider,
  LocalCognitoOAuthFlow,
  LocalCognitoProviderType,
  LocalCognitoRequestCounters,
  LocalCognitoResourceServer,
  LocalCognitoTokenOverrides
} from './local-cognito/index.js'
export { createTokenIssuer, mintTokens } from './token-issuer.js'
export type {
  CognitoMachineTokenOptions, CognitoMintedTokens, CognitoMintOptions, CognitoTokenIssuer, CognitoTokenIssuerOptions
} from './token-issuer.js'
export type { PublicJwk as CognitoPublicJwk } from './local-cognito/keys.js'
export { loginAs } from './login-as.js'
export type { CognitoLoginAsOptions, CognitoLoginAsUser } from './login-as.js'
