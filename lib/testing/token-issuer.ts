import { randomBytes } from 'node:crypto'
import type { CognitoCommonOptions, CognitoSinglePoolOptions } from '../types-options.js'
import { resolveConfig } from './local-cognito/config.js'
import { createContext, type Context } from './local-cognito/context.js'
import { atHash } from './local-cognito/jwt.js'
import { KeyRing, type PublicJwk } from './local-cognito/keys.js'
import { mintAccessToken, mintIdToken, mintMachineToken } from './local-cognito/mint.js'
import type { LocalCognitoUser } from './local-cognito/types.js'

export interface CognitoTokenIssuerOptions {
  /** Default: the region of `userPoolId`, else 'us-east-1'. */
  region?: string
  /**
   * Default: a new random id `<region>_<9 letters and digits>` for each issuer, so that two issuers are two pools
   * (they share signing keys within a process, like every local pool; the issuer URL tells them apart).
   */
  userPoolId?: string
  /** The app client the tokens are for (`client_id`, `aud`). Default 'local-test-client'. */
  clientId?: string
  /** Default: alice (group admin) and bob (no group), as with `startLocalCognito()`. */
  users?: LocalCognitoUser[]
  /** The access tokens' `scope`. Default: openid email phone profile aws.cognito.signin.user.admin. */
  scopes?: string[]
  /** Lifetime of minted tokens in seconds. Default 3600. */
  tokenValiditySeconds?: number
  /** Clock in milliseconds for `iat`, `exp` and `auth_time`. Default Date.now. */
  now?: () => number
}

export interface CognitoMintOptions {
  /** Whose token: one of the issuer's users. Default: the first user (alice with the default users). */
  username?: string
  /** Default: the issuer's `clientId`. Another id mints a token for another app client (a negative test). */
  clientId?: string
  /** Overrides the lifetime; negative gives an already expired token. */
  expiresInSeconds?: number
  /** Merged over `{ kid, alg: 'RS256' }`; a member set to undefined is removed. */
  header?: Record<string, unknown>
}

export interface CognitoMachineTokenOptions {
  /** The machine-to-machine app client: both `sub` and `client_id`. Default: the issuer's `clientId`. */
  clientId?: string
  /** The granted custom scopes, `<resource-server>/<scope>`, joined into the `scope` claim. */
  scopes: string[]
  /** Default: the issuer's `tokenValiditySeconds`, else 3600; negative gives an already expired token. */
  expiresInSeconds?: number
  /** Merged over the defaults; a claim set to undefined is removed. */
  claims?: Record<string, unknown>
  /** Merged over `{ kid, alg: 'RS256' }`; a member set to undefined is removed. */
  header?: Record<string, unknown>
}

export interface CognitoTokenIssuer {
  readonly userPoolId: string
  readonly region: string
  /** `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, as with a real pool. */
  readonly issuer: string
  readonly clientId: string
  /** The public keys, for the plugin's `jwks` option: no server is involved. */
  readonly jwks: { keys: PublicJwk[] }
  /** The users with their defaults (`sub` and so on) filled in. */
  readonly users: LocalCognitoUser[]
  /**
   * A signed Cognito access token. `claims` are merged over the defaults (`sub`, `cognito:groups`, `client_id`,
   * `scope`, `token_use`, …) and a claim set to undefined is removed. Returns the token itself (synchronous), unlike
   * `LocalCognito.mintAccessToken()` of `startLocalCognito()`, which returns a Promise.
   */
  mintAccessToken (claims?: Record<string, unknown>, options?: CognitoMintOptions): string
  /**
   * A signed Cognito ID token (`aud`, `email`, custom attributes, …), without `at_hash` unless `claims` add one.
   * Synchronous, unlike `LocalCognito.mintIdToken()`, which returns a Promise.
   */
  mintIdToken (claims?: Record<string, unknown>, options?: CognitoMintOptions & { nonce?: string }): string
  /**
   * A machine-to-machine access token, shaped like the `client_credentials` grant's: `sub` and `client_id` are the
   * client id, `scope` the given scopes, plus `token_use`, `auth_time`, `iat`, `exp`, `iss`, `version` and `jti`;
   * no `username`, no `cognito:groups`. Synchronous, unlike `LocalCognito.mintMachineToken()`.
   */
  mintMachineToken (options: CognitoMachineTokenOptions): string
  /**
   * Options for `app.register(fastifyCognito, …)` that trust this issuer: `userPoolId`, `clientId`, `issuer`,
   * `jwks`, a loopback `redirectUri`, a placeholder `domain` and a random `sessionSecret`, then `overrides`.
   */
  pluginOptions (overrides?: Partial<CognitoCommonOptions & CognitoSinglePoolOptions>): CognitoCommonOptions & CognitoSinglePoolOptions
}

export interface CognitoMintedTokens {
  accessToken: string
  /** Carries the `at_hash` of `accessToken`, as an ID token from the token endpoint does. */
  idToken: string
  /** The issuer that signed them: `issuer.pluginOptions()` configures an app that accepts them. */
  issuer: CognitoTokenIssuer
}

/** Never resolves (RFC 2606), so a test that follows a login redirect fails fast instead of reaching someone. */
const PLACEHOLDER_DOMAIN = 'https://local-cognito.invalid'
const DEFAULT_CLIENT_ID = 'local-test-client'
const REDIRECT_URI = 'http://localhost:3000/login/redirect'

const POOL_ID_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomPoolSuffix (): string {
  // 256 is not a multiple of 62: the slight bias does not matter for an identifier that only has to differ.
  return [...randomBytes(9)].map(byte => POOL_ID_CHARACTERS[byte % POOL_ID_CHARACTERS.length]).join('')
}

function mintDefaults (ctx: Context, clientId: string, options: CognitoMintOptions): [string, string] {
  const username = options.username ?? ctx.config.users[0]?.username
  if (username === undefined) throw new Error('fastify-cognito/testing: the token issuer has no users; pass `users`')
  return [username, options.clientId ?? clientId]
}

/**
 * Signs Cognito-shaped tokens in process, with the same claims and keys as `startLocalCognito()` but no server:
 * give the app `issuer.pluginOptions()` (which carries the JWKS) and send `Authorization: Bearer <token>`.
 */
export async function createTokenIssuer (options: CognitoTokenIssuerOptions = {}): Promise<CognitoTokenIssuer> {
  const region = options.region ?? options.userPoolId?.split('_')[0] ?? 'us-east-1'
  const clientId = options.clientId ?? DEFAULT_CLIENT_ID
  const validity = options.tokenValiditySeconds
  const config = resolveConfig({
    region,
    userPoolId: options.userPoolId ?? `${region}_${randomPoolSuffix()}`,
    ...(options.users !== undefined ? { users: options.users } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    clients: [{
      clientId,
      callbackUrls: [REDIRECT_URI],
      ...(options.scopes !== undefined ? { allowedScopes: options.scopes } : {}),
      ...(validity !== undefined ? { accessTokenValiditySeconds: validity, idTokenValiditySeconds: validity } : {})
    }]
  })
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${config.userPoolId}`
  const ctx = createContext(config, await KeyRing.create(), { domain: PLACEHOLDER_DOMAIN, issuer })
  const sessionSecret = randomBytes(32).toString('base64url')

  return {
    userPoolId: config.userPoolId,
    region,
    issuer,
    clientId,
    jwks: ctx.keys.jwks(),
    users: config.users,
    mintAccessToken: (claims = {}, mintOptions = {}) => {
      const [username, client] = mintDefaults(ctx, clientId, mintOptions)
      return mintAccessToken(ctx, username, client, { ...mintOptions, claims })
    },
    mintIdToken: (claims = {}, mintOptions = {}) => {
      const [username, client] = mintDefaults(ctx, clientId, mintOptions)
      return mintIdToken(ctx, username, client, { ...mintOptions, claims })
    },
    mintMachineToken: (machineOptions) => mintMachineToken(ctx, machineOptions.clientId ?? clientId, {
      scopes: machineOptions.scopes,
      expiresInSeconds: machineOptions.expiresInSeconds ?? validity ?? 3600,
      ...(machineOptions.claims !== undefined ? { claims: machineOptions.claims } : {}),
      ...(machineOptions.header !== undefined ? { header: machineOptions.header } : {})
    }),
    pluginOptions: (overrides = {}) => ({
      userPoolId: config.userPoolId,
      clientId,
      domain: PLACEHOLDER_DOMAIN,
      issuer,
      jwks: ctx.keys.jwks(),
      redirectUri: REDIRECT_URI,
      sessionSecret,
      ...overrides
    })
  }
}

/**
 * One access token and one ID token for the same sign-in, `claims` merged into both, from a new issuer:
 * `const { accessToken, issuer } = await mintTokens({ 'cognito:groups': ['admin'] })`.
 */
export async function mintTokens (
  claims: Record<string, unknown> = {},
  options: CognitoTokenIssuerOptions & CognitoMintOptions = {}
): Promise<CognitoMintedTokens> {
  const issuer = await createTokenIssuer(options)
  const accessToken = issuer.mintAccessToken(claims, options)
  const idToken = issuer.mintIdToken({ at_hash: atHash(accessToken), ...claims }, options)
  return { accessToken, idToken, issuer }
}
