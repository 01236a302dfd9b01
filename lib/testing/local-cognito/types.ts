export interface LocalCognitoUser {
  username: string
  password: string
  /** Default: a random UUID fixed at start. */
  sub?: string
  email?: string
  /** Default true when `email` is set. */
  emailVerified?: boolean
  phoneNumber?: string
  name?: string
  /** No groups means no `cognito:groups` claim at all, as with Cognito. */
  groups?: string[]
  /** Extra user attributes, e.g. `{ 'custom:tenant': 'acme' }`; they become ID token and userInfo claims. */
  attributes?: Record<string, string>
}

/** Cognito's `AllowedOAuthFlows` without the implicit grant, which these clients never allow. */
export type LocalCognitoOAuthFlow = 'code' | 'client_credentials'

export interface LocalCognitoClient {
  clientId: string
  /** Present means a confidential client (HTTP Basic or body authentication, as Cognito accepts both). */
  clientSecret?: string
  /** `redirect_uri` must match one of these exactly. A machine-to-machine client has none: pass `[]`. */
  callbackUrls: string[]
  /** Allowed sign-out URLs for `/logout?logout_uri=`. */
  logoutUrls?: string[]
  /**
   * Cognito's `AllowedOAuthFlows`. Default `['code']` (browser sign-in, plus `refresh_token`).
   * `['client_credentials']` makes a machine-to-machine client, with Cognito's rules checked at start: it needs a
   * `clientSecret`, cannot also allow `'code'`, and its scopes must be resource-server scopes only.
   */
  allowedOAuthFlows?: LocalCognitoOAuthFlow[]
  /**
   * Default: openid, email, phone, profile, aws.cognito.signin.user.admin and every resource-server scope; for a
   * `client_credentials` client, every resource-server scope only.
   */
  allowedScopes?: string[]
  /** Default 3600. Unlike Cognito there is no 5-minute minimum, so tests can use 1-2 s. */
  accessTokenValiditySeconds?: number
  /** Default 3600. */
  idTokenValiditySeconds?: number
  /**
   * Default 30 days. Counted from the sign-in: a rotated refresh token keeps the expiry of the one it replaces,
   * as with Cognito, so rotation never extends a session.
   */
  refreshTokenValiditySeconds?: number
  /** Default false: a refresh answers without a new refresh token. */
  refreshTokenRotation?: boolean
  /**
   * How long a rotated-away refresh token keeps working, 0 to 60 as with Cognito's `RetryGracePeriodSeconds`.
   * Default 0 (the old token dies at once). AWS documents the range but no default, so set it to what your app
   * client uses.
   */
  rotationGracePeriodSeconds?: number
  /** Default true: tokens carry `jti`/`origin_jti` and `/oauth2/revoke` works. */
  enableTokenRevocation?: boolean
}

export interface LocalCognitoResourceServer {
  identifier: string
  scopes: string[]
}

/** Cognito's `ProviderType`: the four social providers, or a generic OIDC or SAML provider. */
export type LocalCognitoProviderType = 'Google' | 'Facebook' | 'LoginWithAmazon' | 'SignInWithApple' | 'OIDC' | 'SAML'

/**
 * The one user a simulated provider signs in. As with Cognito's attribute mapping, the user has exactly the
 * attributes given here: nothing defaults to verified.
 */
export interface LocalCognitoFederatedUser {
  /** The user's id at the provider (Google's `sub`, a SAML NameID); the username becomes `<provider name>_<id>`. */
  id: string
  /** Default: a random UUID fixed at start. */
  sub?: string
  email?: string
  /** Default: no `email_verified` at all, as when the attribute mapping does not map it. */
  emailVerified?: boolean
  phoneNumber?: string
  name?: string
  /** Groups besides the automatic `<userPoolId>_<provider name>` group every federated user is in. */
  groups?: string[]
  attributes?: Record<string, string>
  /** When Cognito first saw the user, in ms, for `identities[].dateCreated`. Default: the pool's start time. */
  dateCreated?: number
}

export interface LocalCognitoIdentityProvider {
  /**
   * Cognito's provider name, e.g. 'Google' or 'MyCorpSAML': `/oauth2/authorize?identity_provider=<name>` signs the
   * provider's user in, and the name prefixes the username and the automatic group.
   */
  name: string
  /** Default: `name` for Google, Facebook, LoginWithAmazon and SignInWithApple, else 'OIDC'. */
  providerType?: LocalCognitoProviderType
  /** `identities[].issuer`. Default null, as Cognito shows for social providers. */
  issuer?: string | null
  user: LocalCognitoFederatedUser
}

export interface LocalCognitoOptions {
  /** Default '127.0.0.1'. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  /** Default 'us-east-1'. */
  region?: string
  /** Default `<region>_LOCALpool`. */
  userPoolId?: string
  /** Default: alice (group admin) and bob (no groups). */
  users?: LocalCognitoUser[]
  /** Default: 'local-public-client' and 'local-confidential-client'. */
  clients?: LocalCognitoClient[]
  /** `{ identifier: 'orders', scopes: ['read'] }` gives the scope 'orders/read'. */
  resourceServers?: LocalCognitoResourceServer[]
  /** Simulated federated providers (Google, SAML, ...). Default none. */
  identityProviders?: LocalCognitoIdentityProvider[]
  /**
   * Which sign-in pages the domain serves, Cognito's branding version. Default 'managed-login', which honours
   * `prompt=login` (sign in again despite the 1-hour `cognito` session cookie) and `prompt=none` (never show a
   * page: `login_required` instead), and accepts `select_account` and `consent`, which only matter to external
   * providers. 'classic-hosted-ui' ignores `prompt` entirely.
   */
  loginUi?: 'managed-login' | 'classic-hosted-ui'
  /** Clock in milliseconds, default Date.now; every iat/exp/auth_time and every expiry uses it. */
  now?: () => number
  /** Default false. */
  logger?: boolean
}

export interface LocalCognitoTokenOverrides {
  /** Merged over the default claims; a key set to undefined removes that claim. */
  claims?: Record<string, unknown>
  /** Merged over `{ kid, alg: 'RS256' }`; a key set to undefined removes it. */
  header?: Record<string, unknown>
  /** May be negative for an already expired token. */
  expiresInSeconds?: number
}

export interface LocalCognitoRequestCounters {
  authorize: number
  login: number
  /** GET and POST of a simulated provider's sign-in page. */
  federatedLogin: number
  token: number
  tokenAuthorizationCode: number
  tokenRefresh: number
  tokenClientCredentials: number
  userInfo: number
  revoke: number
  logout: number
  jwks: number
  discovery: number
}

export interface LocalCognito {
  /** Hosted UI and oauth2 endpoints, e.g. 'http://127.0.0.1:45678'. */
  domain: string
  /** `${domain}/${userPoolId}`; discovery and JWKS live under it. */
  issuer: string
  jwksUri: string
  userPoolId: string
  region: string
  /** With defaults filled in. */
  clients: LocalCognitoClient[]
  /** With `sub` and the other defaults filled in. */
  users: LocalCognitoUser[]
  /** With `providerType`, `issuer` and the user's `sub` and `dateCreated` filled in. */
  identityProviders: LocalCognitoIdentityProvider[]
  /** Live counters. */
  requests: LocalCognitoRequestCounters
  /** The query of the last `/oauth2/authorize` call. */
  lastAuthorizeQuery: Record<string, string> | undefined
  /**
   * A signed access token for a user of this pool (a federated one by its `<provider>_<id>` username too).
   * Returns a Promise, unlike `createTokenIssuer().mintAccessToken()`, which returns the token itself.
   */
  mintAccessToken (username: string, clientId: string, overrides?: LocalCognitoTokenOverrides): Promise<string>
  /** A signed ID token; a Promise, unlike `createTokenIssuer().mintIdToken()`. */
  mintIdToken (username: string, clientId: string, overrides?: LocalCognitoTokenOverrides & { nonce?: string }): Promise<string>
  /**
   * A machine-to-machine access token as the `client_credentials` grant gives: `sub` = `client_id` = `clientId`, no
   * user claims. `scopes` default to the client's resource-server scopes. A Promise, unlike
   * `createTokenIssuer().mintMachineToken()`.
   */
  mintMachineToken (clientId: string, overrides?: LocalCognitoTokenOverrides & { scopes?: string[] }): Promise<string>
  /**
   * New key pairs with new kids; the old kids leave the JWKS. Until then the pool signs with the two key pairs every
   * pool and token issuer of this process starts with (generated once, to keep test suites fast; each pool has its
   * own issuer, so a token of one pool never passes for another's).
   */
  rotateKeys (): Promise<void>
  /** false makes jwks.json answer 503 until set back. */
  setJwksAvailable (available: boolean): void
  /** As GlobalSignOut: every refresh token dies and userInfo rejects every access token issued so far. */
  revokeAllSessions (): void
  close (): Promise<void>
}

/** A federated user's link to its provider: what the ID token's `identities` claim describes. */
export interface ResolvedIdentity {
  providerName: string
  providerType: LocalCognitoProviderType
  userId: string
  issuer: string | null
  dateCreated: number
}

/** Federated users carry `identity`; the sign-in form refuses them (their password is empty), only their provider signs them in. */
export type ResolvedUser = LocalCognitoUser & { sub: string, identity?: ResolvedIdentity }

export type ResolvedClient = LocalCognitoClient & Required<Omit<LocalCognitoClient, 'clientSecret'>>
