import type { CognitoClient } from './cognito/client.js'
import type { CognitoHttpClient } from './cognito/http.js'
import type { ResolvedCognitoOptions } from './options.js'
import type { LoginTransactions } from './session/login-transactions.js'
import type { SessionRefresher } from './session/refresh.js'
import type { SessionStore } from './session/store.js'
import type { JwksKeyStore } from './tokens/jwks.js'
import type { CognitoTokenVerifier } from './tokens/verifier.js'
import type { Clock } from './util/clock.js'

/** The plugin's routes, with the prefix. */
export interface CognitoPaths {
  readonly login: string
  readonly callback: string
  readonly refresh: string
  readonly logout: string
}

/**
 * What every part of one registration works with, built once in plugin.ts: the resolved options, the services,
 * the paths and the values derived from the options, and the one clock. Parts take it whole and read what they
 * need; nothing derives these values a second time.
 */
export interface CognitoContext {
  readonly options: ResolvedCognitoOptions
  readonly clock: Clock
  readonly http: CognitoHttpClient
  readonly keys: JwksKeyStore
  readonly verifier: CognitoTokenVerifier
  readonly client: CognitoClient
  readonly store: SessionStore
  readonly loginTransactions: LoginTransactions
  readonly refresher: SessionRefresher
  /** The refresher when guards refresh sessions by themselves (`autoRefresh`), else undefined. */
  readonly autoRefresher: SessionRefresher | undefined
  readonly paths: CognitoPaths
  /** Origin of the app as browsers see it (from redirectUri), for the cross-site checks. */
  readonly appOrigin: string
  /** Host name (lower case) of the redirect URI: where a sign-in must start to find its cookie again. */
  readonly callbackHostname: string
  /** Whether sign-in asks for `openid`, so that Cognito must return an ID token. */
  readonly requireIdToken: boolean
}
