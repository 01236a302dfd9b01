export { startLocalCognito } from './local-cognito/index.js'
export type {
  LocalCognito,
  LocalCognitoOptions,
  LocalCognitoUser,
  LocalCognitoClient,
  LocalCognitoTokenOverrides
} from './local-cognito/index.js'
