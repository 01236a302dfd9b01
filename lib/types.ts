import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { CognitoClientCredentials, CognitoClientCredentialsOptions } from './cognito/client-credentials.js'
import type { CognitoAuthorizationParams } from './cognito/sign-in-params.js'

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

/** What `app.register(fastifyCognito, options)` accepts. */
/** A user pool whose tokens a registration accepts: `userPools` entries, or the top-level options for one pool. */
export interface CognitoUserPoolOptions {
  /** The user pool id, `<region>_<id>`, e.g. `eu-west-1_AbCdEf123`. */
  userPoolId: string
  /**
   * The app client id, or several: access tokens of any of them pass the guards. With browser sign-in, the first is
   * the client users sign in with.
   */
  clientId: string | string[]
  /** AWS region; the part of `userPoolId` before `_` unless given (and then it must agree). */
  region?: string | undefined
  /** Token issuer. Default `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`. */
  issuer?: string | undefined
  /** JWKS URL. Default `<issuer>/.well-known/jwks.json`. */
  jwksUri?: string | undefined
  /**
   * The pool's JWKS document (`{ keys: [...] }`) to use instead of fetching `jwksUri`: for tests (see
   * `createTokenIssuer` in fastify-cognito/testing) and networks that cannot reach Cognito's key endpoint.
   * Key rotation then needs a restart.
   */
  jwks?: { keys: unknown[] } | undefined
}

/** One user pool, given at the top level (the usual case). */
export interface CognitoSinglePoolOptions extends CognitoUserPoolOptions {
  userPools?: undefined
}

/**
 * Several user pools (a multi-tenant API): each token is matched to its pool by its exact `iss` before any key is
 * fetched; each pool has its own JWKS cache and cooldown. With browser sign-in, users sign in with the first pool's
 * first client.
 */
export interface CognitoMultiPoolOptions {
  userPools: CognitoUserPoolOptions[]
  userPoolId?: undefined
  clientId?: undefined
  region?: undefined
  issuer?: undefined
  jwksUri?: undefined
  jwks?: undefined
}

/**
 * What `app.register(fastifyCognito, options)` accepts. `{ userPoolId, clientId }` alone is a complete bearer-only
 * registration (an API: no routes, no cookies). `domain`, `redirectUri` and `sessionSecret` together turn on
 * browser sign-in.
 */
export type FastifyCognitoOptions = CognitoCommonOptions & (CognitoSinglePoolOptions | CognitoMultiPoolOptions)

/** The options that do not depend on how the pools are given. */
export interface CognitoCommonOptions {
  /** The app client secret (browser sign-in). Present: a confidential client (HTTP Basic). Absent: a public client (PKCE only). */
  clientSecret?: string | undefined
  /** Browser sign-in: the managed login (hosted UI) base URL, `https://<prefix>.auth.<region>.amazoncognito.com` or a custom domain. */
  domain?: string | undefined
  /** Browser sign-in: absolute URL of this app's callback route (`<prefix>/login/redirect`), registered as a callback URL on the app client. */
  redirectUri?: string | undefined
  /** Absolute URL Cognito's /logout sends the user to; must be an allowed sign-out URL of the app client. */
  logoutUri?: string | undefined
  /** OAuth scopes to ask for. Default `['openid', 'email', 'profile']`. */
  scopes?: string[] | undefined
  /**
   * Browser sign-in: secret(s) of at least 32 characters for the encrypted cookies. An array rotates: the first
   * encrypts, all decrypt.
   */
  sessionSecret?: string | string[] | undefined
  /** Mount point of the plugin's routes. Default `''`. */
  // Exactly `string` when present, as Fastify's own register option of the same name is.
  prefix?: string
  /** Where a login ends when it has no `returnTo`, and where logout ends without `logoutUri`. Default `'/'`. */
  afterLoginRedirect?: string | undefined
  /** Prefix of the cookie names. Default `'cognito'` (with `__Host-` in front when cookies are Secure). */
  cookieName?: string | undefined
  /**
   * Send cookies with the `Secure` attribute. Default: true, and false only when `redirectUri` is
   * `http://localhost` or `http://127.0.0.1` (local development). Setting false elsewhere lets cookies travel in clear text.
   */
  secureCookies?: boolean | undefined
  /**
   * Absolute lifetime of a sign-in in seconds: after it the user signs in again even if the refresh token still
   * works. Also the lifetime of the session cookie. Default 30 days (Cognito's default refresh-token lifetime).
   */
  maxSessionAge?: number | undefined
  /**
   * Guards refresh an expired (or about to expire, see `refreshSkew`) access token of a session with its refresh
   * token, once per session however many requests wait for it, and go on with the request. Default true.
   */
  autoRefresh?: boolean | undefined
  /** Seconds before `exp` at which `autoRefresh` already refreshes. Default 30. */
  refreshSkew?: number | undefined
  /**
   * Default sign-in parameters sent to /oauth2/authorize; `GET /login` may override them with the same query
   * parameters. `identity_provider` / `idp_identifier` skip the hosted UI (Google, a SAML or OIDC IdP).
   */
  authorizationParams?: CognitoAuthorizationParams | undefined
  /**
   * Fetch /oauth2/userInfo at sign-in and again at every refresh, and complete `request.user.claims` with it (the
   * verified ID token wins where both have a claim). Needs the `openid` scope. Default false.
   */
  userInfo?: boolean | undefined
  /**
   * Runs after the tokens are verified, before the session is stored. Throw to refuse the sign-in (403 unless the
   * error has its own statusCode; no session is created and the refresh token is revoked). Return a JSON object to
   * keep it in the session: it is `request.cognito.sessionData` on guarded requests.
   */
  onLogin?: ((request: FastifyRequest, context: CognitoLoginContext) => FastifyCognitoSessionData | undefined | void | Promise<FastifyCognitoSessionData | undefined | void>) | undefined
  /** Runs when a session is refreshed (by POST /refresh, a guard's automatic refresh or request.cognito.refresh()). */
  onRefresh?: ((request: FastifyRequest, user: CognitoUser) => void | Promise<void>) | undefined
  /** Runs at logout, before the cookies are cleared; `user` is null when there was no valid session. */
  onLogout?: ((request: FastifyRequest, user: CognitoUser | null) => void | Promise<void>) | undefined
  /** Time limit in milliseconds for each HTTP call to Cognito (token, revoke, userInfo, JWKS). Default 5000. */
  httpTimeout?: number | undefined
  /** Seconds of clock skew accepted on `exp` and `iat`. Default 5. */
  clockTolerance?: number | undefined
  /** Minimum milliseconds between two JWKS fetches caused by unknown key ids. Default 30000. */
  jwksCooldown?: number | undefined
  /** Fetch the JWKS when the server starts (`onReady`), so the first request does not wait for it. Default true. */
  prefetchJwks?: boolean | undefined
  /**
   * How many verified access tokens each process keeps in memory, so that a token presented again skips the RSA
   * verification (its expiry is still checked on every request). Decoded session cookies are kept too, a tenth
   * as many. 0 turns both caches off. Default 10000.
   */
  tokenCacheSize?: number | undefined
  /**
   * Most bytes the session's cookies may take (their values; every request carries them). A sign-in whose session
   * is larger is refused with `CognitoSessionTooLargeError` instead of locking the browser out with 431 answers.
   * From 3800 (one cookie) to 15200 (four cookies; Node's request-head limit is 16 KiB). Default 7600 (two).
   */
  maxSessionCookieBytes?: number | undefined
  /**
   * Your own revocation list: called on every guarded request (cache hits included) with the verified access-token
   * claims; `true` refuses the token with 401 `FST_COGNITO_INVALID_TOKEN`. Sync or async; a throw is a 503-class
   * fault of your own, answered as you throw it.
   */
  isRevoked?: ((claims: CognitoAccessTokenPayload, request: FastifyRequest) => boolean | Promise<boolean>) | undefined
  /**
   * The plugin's clock in epoch milliseconds, for tests that move time instead of sleeping (token expiry, session
   * age, refresh timing, JWKS cool-down). Default `Date.now`.
   */
  now?: (() => number) | undefined
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
  /** Verifies a Cognito access token of this app client; rejects with a typed CognitoError. */
  verifyAccessToken (token: string): Promise<CognitoAccessTokenPayload>
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
