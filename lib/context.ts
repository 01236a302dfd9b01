import type { CognitoClient } from './cognito/client.js'
import type { CognitoHttpClient } from './cognito/http.js'
import type { ResolvedCognitoOptions, ResolvedSignInOptions } from './options.js'
import type { LoginTransactions } from './session/login-transactions.js'
import type { SessionRefresher } from './session/refresh.js'
import type { SessionStore } from './session/store.js'
import type { JwksKeyStore } from './tokens/jwks.js'
import type { CognitoTokenVerifier } from './tokens/verifier.js'
import type { Clock } from './util/clock.js'

/** The plugin's routes, with the prefix (reported by the decorator in bearer-only mode too). */
export interface CognitoPaths {
  readonly login: string
  readonly callback: string
  readonly refresh: string
  readonly logout: string
}

/** Browser sign-in: its options and services. Absent in a bearer-only registration. */
export interface CognitoSignIn {
  readonly options: ResolvedSignInOptions
  readonly client: CognitoClient
  readonly store: SessionStore
  readonly loginTransactions: LoginTransactions
  readonly refresher: SessionRefresher
  /** The refresher when guards refresh sessions by themselves (`autoRefresh`), else undefined. */
  readonly autoRefresher: SessionRefresher | undefined
  /** Origin of the app as browsers see it (from redirectUri), for the cross-site checks. */
  readonly appOrigin: string
  /** Host name (lower case) of the redirect URI: where a sign-in must start to find its cookie again. */
  readonly callbackHostname: string
  /** Whether sign-in asks for `openid`, so that Cognito must return an ID token. */
  readonly requireIdToken: boolean
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
  /** One key store per user pool, in the order of `options.pools`. */
  readonly keys: readonly JwksKeyStore[]
  readonly verifier: CognitoTokenVerifier
  /** The user pool id of a verified token's issuer. */
  readonly poolIdOf: (issuer: string) => string
  readonly paths: CognitoPaths
  readonly signIn: CognitoSignIn | undefined
}

/** The context of a registration with browser sign-in: what the flows and routes work with. */
export type SignInContext = CognitoContext & { readonly signIn: CognitoSignIn }

export function hasSignIn (context: CognitoContext): context is SignInContext {
  return context.signIn !== undefined
}
