export { startLocalCognito } from './server.js'
export type {
  LocalCognito,
  LocalCognitoClient,
  LocalCognitoFederatedUser,
  LocalCognitoIdentityProvider,
  LocalCognitoOAuthFlow,
  LocalCognitoOptions,
  LocalCognitoProviderType,
  LocalCognitoRequestCounters,
  LocalCognitoResourceServer,
  LocalCognitoTokenOverrides,
  LocalCognitoUser
} from './types.js'
