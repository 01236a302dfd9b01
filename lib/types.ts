import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { CognitoClientCredentials, CognitoClientCredentialsOptions } from './cognito/client-credentials.js'

/**
 * Merge your own claims (custom attributes, pre-token-generation additions) into this interface and they are
 * typed on `request.user.claims` and `request.tokenPayload`:
 *
 *   declare module 'fastify-cognito' {
 *     interface FastifyCognitoClaims { 'custom:tenant'?: string }
 *   }
 */
export interface FastifyCognitoClaims {}

/**
 * What an `onLogin` hook may keep in the session (a JSON object), read back as `request.cognito.sessionData`. Merge
 * your own fields into it to type them:
 *
 *   declare module 'fastify-cognito' {
 *     interface FastifyCognitoSessionData { tenantId?: string }
 *   }
 */
export interface FastifyCognitoSessionData {
  [key: string]: unknown
}

/** Claims of a Cognito access token (`token_use: "access"`). There is no `aud`: `client_id` names the app client. */
export interface CognitoAccessTokenClaims {
  sub: string
  iss: string
  client_id: string
  token_use: 'access'
  /** Space-separated granted scopes. */
  scope?: string
  auth_time?: number
  iat: number
  exp: number
  jti?: string
  origin_jti?: string
  /** The user's sign-in name; absent in machine (client credentials) tokens, whose `sub` is the client id. */
  username?: string
  /** Absent when the user is in no group. */
  'cognito:groups'?: string[]
  event_id?: string
  device_key?: string
  version?: number
  [claim: string]: unknown
}

/** Claims of a Cognito ID token (`token_use: "id"`). */
export interface CognitoIdTokenClaims {
  sub: string
  iss: string
  aud: string
  token_use: 'id'
  'cognito:username': string
  'cognito:groups'?: string[]
  auth_time?: number
  iat: number
  exp: number
  jti?: string
  origin_jti?: string
  nonce?: string
  at_hash?: string
  email?: string
  email_verified?: boolean
  phone_number?: string
  phone_number_verified?: boolean
  name?: string
  identities?: unknown[]
  [claim: string]: unknown
}

export type CognitoAccessTokenPayload = CognitoAccessTokenClaims & FastifyCognitoClaims
export type CognitoIdTokenPayload = CognitoIdTokenClaims & FastifyCognitoClaims

/** What every `request.user` has, whoever the token belongs to. */
export interface CognitoUserBase {
  sub: string
  /** `cognito:groups` of the access token; `[]` when the user is in no group (and for machine tokens). */
  groups: string[]
  /** Scopes granted to the access token. */
  scopes: string[]
  /** The app client the access token was issued to (`client_id`). */
  clientId: string
  /** The user pool that signed the token (chosen by its `iss`). */
  userPoolId: string
  email?: string
  emailVerified?: boolean
  /**
   * The identity provider a federated user signed in with (`Google`, `Facebook`, a SAML or OIDC provider's name),
   * from the ID token's `identities` claim; absent for the pool's own users and on Bearer requests (an access token
   * does not say). Cognito also puts such users in the group `<userPoolId>_<ProviderName>`, which stays in `groups`.
   */
  identityProvider?: string
  /** ID-token claims when the session has an ID token, else the access-token claims. */
  claims: CognitoIdTokenPayload | CognitoAccessTokenPayload
}

/** A person: the token names a user of the pool. */
export interface CognitoHumanUser extends CognitoUserBase {
  isMachine: false
  /** The sign-in name. In pools that sign in with email or phone it is a UUID: not a display name. */
  username: string
}

/**
 * Another service, with a client-credentials (machine-to-machine) token: `sub` and `clientId` are its app client,
 * there is no username and no group, and its scopes are custom ones (`<resource-server>/<scope>`).
 */
export interface CognitoMachineUser extends CognitoUserBase {
  isMachine: true
  username?: undefined
}

/** `request.user`: who is signed in, normalised from verified token claims. `isMachine` tells which kind. */
export type CognitoUser = CognitoHumanUser | CognitoMachineUser

/** What `onLogin` receives: the signed-in user and the verified tokens. */
export interface CognitoLoginContext {
  user: CognitoUser
  tokens: {
    accessToken: string
    idToken: string | undefined
    refreshToken: string | undefined
    /** When the tokens stop being valid: the earlier `exp` of the access and the ID token, epoch seconds. */
    expiresAt: number
  }
}

export interface CognitoRequireAuthOptions {
  /** Groups the user must be in: all of them, or at least one with `anyGroup: true`. */
  groups?: string[]
  /** With `groups`: one of the groups suffices. Default false (all are required). */
  anyGroup?: boolean
  /** Scopes the access token must carry: all of them, or at least one with `anyScope: true`. */
  scopes?: string[]
  /** With `scopes`: one of the scopes suffices. Default false (all are required). */
  anyScope?: boolean
  /**
   * Only tokens of these app clients (`client_id`) pass; a valid token of another accepted client gets 403. Each id
   * must be one the registration accepts (`clientId`), else an options error.
   */
  clientIds?: string[]
  /**
   * No credentials at all (no Bearer token, no session) let the handler run with `request.user === null`; a token
   * that is present must still be valid (401 otherwise). Default false.
   */
  optional?: boolean
  /**
   * Send browser navigations (GET preferring text/html) without a valid session to the login route instead of
   * answering 401. Default true.
   */
  redirectToLogin?: boolean
  /**
   * Step-up: the sign-in (`auth_time`) must be at most this many seconds old. Older sign-ins get 401
   * `FST_COGNITO_STEP_UP_REQUIRED` (RFC 9470 `insufficient_user_authentication`), browser navigations a login
   * with `prompt=login`.
   */
  maxAge?: number
  /** A rule groups and scopes cannot express. False means 403 `FST_COGNITO_FORBIDDEN`. */
  check?: (user: CognitoUser, request: FastifyRequest) => boolean | Promise<boolean>
}

/** `request.cognito`: the plugin's helpers for handlers. */
export interface CognitoRequestHelpers {
  /** Starts a sign-in: sets the login transaction cookie and redirects to Cognito. */
  login (reply: FastifyReply, options?: { returnTo?: string, identityProvider?: string, prompt?: 'login' | 'none' | 'select_account' | 'consent', loginHint?: string }): FastifyReply
  /** Revokes the refresh token, clears the plugin's cookies and redirects like the logout route. */
  logout (reply: FastifyReply): Promise<FastifyReply>
  /**
   * Signs the user out on every device: like `logout`, and every other session of the user in the server-side
   * store ends too, on every instance, with its refresh token revoked at Cognito. Needs `sessionStore`.
   */
  logoutEverywhere (reply: FastifyReply): Promise<FastifyReply>
  /** Refreshes the session's tokens now (single flight); resolves to the new access-token expiry (epoch seconds). */
  refresh (reply: FastifyReply): Promise<{ expiresAt: number }>
  /** Whether the request carries a valid session or bearer token (verifies it; sets nothing). */
  isAuthenticated (): Promise<boolean>
  /** What `onLogin` kept in the session; undefined without a session or when it kept nothing. */
  readonly sessionData: FastifyCognitoSessionData | undefined
}

export interface CognitoDecorator {
  /** A preHandler that authenticates the request and sets `request.user` and `request.tokenPayload`. */
  requireAuth (options?: CognitoRequireAuthOptions): preHandlerAsyncHookHandler
  /**
   * Machine-to-machine tokens for calling other APIs (Cognito's client credentials grant): `getAccessToken()`
   * resolves to an access token, cached until `refreshSkew` before it expires and fetched single flight. `domain`
   * defaults to the registration's and is required in a bearer-only registration. The same options give the same
   * source (one cache).
   */
  clientCredentials (options: CognitoClientCredentialsOptions): CognitoClientCredentials
  /**
   * Guards every route registered on `instance` (an encapsulated context, after this call) with
   * `requireAuth(options)`, as the first route-level preHandler, so that the OpenAPI documentation sees it (a
   * guard added with `instance.addHook('preHandler', ...)` works too, but is invisible to the documentation).
   */
  guardContext (instance: FastifyInstance, options?: CognitoRequireAuthOptions): void
  /** Verifies a Cognito access token of this app client; rejects with a typed CognitoError. */
  verifyAccessToken (token: string): Promise<CognitoAccessTokenPayload>
  /**
   * Ends every session of the user `sub` (all devices) on every instance, revokes their refresh tokens at Cognito
   * and refuses their access tokens across the fleet; for an admin route or a job. Resolves to the number of
   * sessions ended. Needs `sessionStore`.
   */
  endSessions (sub: string): Promise<number>
  /** Verifies a Cognito ID token of this app client (optionally its nonce); rejects with a typed CognitoError. */
  verifyIdToken (token: string, options?: { nonce?: string }): Promise<CognitoIdTokenPayload>
  /** The path of the login route, with the prefix (`/login`). */
  readonly loginPath: string
  /** The path of the logout route, with the prefix (`/logout`). */
  readonly logoutPath: string
  /** The path of the refresh route, with the prefix (`/refresh`). */
  readonly refreshPath: string
}

declare module 'fastify' {
  interface FastifyInstance {
    cognito: CognitoDecorator
  }
  interface FastifyRequest {
    /** The signed-in user; null unless a fastify-cognito guard authenticated this request. */
    user: CognitoUser | null
    /** The verified access-token claims; null unless a fastify-cognito guard authenticated this request. */
    tokenPayload: CognitoAccessTokenPayload | null
    /** Helpers of the fastify-cognito registration this request runs under. */
    cognito: CognitoRequestHelpers
  }
}
