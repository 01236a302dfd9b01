export { startLocalCognito } from './server.js'
export type {
  LocalCognito,
  LocalCognitoClient,
  LocalCognitoOptions,
  LocalCognitoRequestCounters,
  LocalCognitoResourceServer,
  LocalCognitoTokenOverrides,
  LocalCognitoUser
} from './types.js'
