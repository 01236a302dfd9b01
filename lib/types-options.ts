import type { CognitoSessionStore } from './types-store.js'
import type { FastifyRequest } from 'fastify'
import type { CognitoAuthorizationParams } from './cognito/sign-in-params.js'
import type { CognitoAccessTokenPayload, CognitoLoginContext, CognitoUser, FastifyCognitoSessionData } from './types.js'

/** What `app.register(fastifyCognito, options)` accepts: the public option types (types.ts re-exports them). */

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
   * Browser sign-in: keep sessions on the server (Redis: `sessionStore: redisStore({ client })` from
   * `fastify-cognito/redis`) instead of in encrypted cookies. The browser then holds one small cookie; sign-out
   * reaches every instance at once, and one refresh serves the whole fleet. Default: cookie sessions.
   */
  sessionStore?: CognitoSessionStore | undefined
  /** Milliseconds each call to `sessionStore` may take before the request is answered 503. Default 500. */
  sessionStoreTimeout?: number | undefined
  /**
   * With `sessionStore`: let requests through while this instance has not yet loaded the fleet's list of signed-out
   * tokens from the store (the store was down since it started). Default false: they are answered 503.
   */
  revocationFailOpen?: boolean | undefined
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
  /**
   * How guarded routes and the plugin's routes are documented when the app registers `@fastify/swagger` (OpenAPI
   * 3). Nothing of it runs, and nothing is loaded, without @fastify/swagger. `false` turns the documentation off.
   */
  openapi?: CognitoOpenApiOptions | false | undefined
}

/** The `openapi` option: names in the OpenAPI document. */
export interface CognitoOpenApiOptions {
  /**
   * Names of the security schemes in `components.securitySchemes`. Default `{ oauth2: 'cognito', bearer:
   * 'cognitoBearer' }`. The OAuth2 scheme (authorization code + PKCE) exists only with browser sign-in.
   */
  securitySchemeNames?: { oauth2?: string | undefined, bearer?: string | undefined } | undefined
  /** Tag of the plugin's routes (`/login`, `/login/redirect`, `/refresh`, `/logout`). Default `'Authentication'`. */
  tag?: string | undefined
  /** Leave the plugin's routes out of the document. Default false. */
  hidePluginRoutes?: boolean | undefined
  /**
   * The `transform` you give @fastify/swagger, if any (type providers such as fastify-type-provider-zod need one).
   * The plugin documents a route through the route's `config.swaggerTransform`, which @fastify/swagger calls
   * instead of its global `transform`: the plugin calls this one first, so guarded routes are transformed too.
   */
  transform?: ((args: { schema: any, url: string, route: any, openapiObject?: any }) => { schema?: any, url?: string }) | undefined
}
