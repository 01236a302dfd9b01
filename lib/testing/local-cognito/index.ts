export { startLocalCognito } from './server.js'
export type {
  LocalCognito,
  LocalCognitoClient,
  LocalCognitoOAuthFlow,
  LocalCognitoOptions,
  LocalCognitoRequestCounters,
  LocalCognitoResourceServer,
  LocalCognitoTokenOverrides,
  LocalCognitoUser
} from './types.js'
