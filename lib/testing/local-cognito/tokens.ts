import { randomUUID } from 'node:crypto'
import { nowSeconds, type Context } from './context.js'
import { identitiesClaim } from './federation.js'
import { atHash, merge, signJwt } from './jwt.js'
import type { TokenSession } from './stores.js'
import type { ResolvedClient, ResolvedUser } from './types.js'

export interface ClaimsInput {
  user: ResolvedUser
  clientId: string
  scopes: string[]
  authTime: number
  iat: number
  exp: number
  eventId: string
  /** Undefined when the client has token revocation disabled: Cognito then adds neither jti nor origin_jti. */
  originJti?: string
}

export interface TokenResponse {
  id_token?: string
  access_token: string
  refresh_token?: string
  expires_in: number
  token_type: 'Bearer'
}

const VERIFIED_FLAGS = new Set(['email_verified', 'phone_number_verified'])

/**
 * The user's attributes as Cognito stores them: every value a string, verified flags included. A federated user
 * has only what its attribute mapping gives, plus `identities` as a JSON string (how Cognito stores that
 * attribute; that userInfo releases it in this form is observed, not documented).
 */
export function userAttributes (user: ResolvedUser): Record<string, string> {
  const attributes: Record<string, string> = { ...user.attributes }
  if (user.identity !== undefined) attributes.identities = JSON.stringify(identitiesClaim(user.identity))
  if (user.name !== undefined) attributes.name = user.name
  if (user.phoneNumber !== undefined) {
    attributes.phone_number = user.phoneNumber
    // Seeded test users count as verified unless an attribute says otherwise, matching emailVerified's default.
    if (user.identity === undefined) attributes.phone_number_verified ??= 'true'
  }
  if (user.email !== undefined) {
    attributes.email = user.email
    if (user.emailVerified !== undefined) attributes.email_verified = String(user.emailVerified)
  }
  return attributes
}

function groupsClaim (user: ResolvedUser): Record<string, unknown> {
  return user.groups !== undefined && user.groups.length > 0 ? { 'cognito:groups': [...user.groups] } : {}
}

/** Claim order follows real Cognito tokens, which makes decoded tokens easy to compare side by side. */
export function accessTokenClaims (ctx: Context, input: ClaimsInput): Record<string, unknown> {
  const revocation = input.originJti !== undefined
  return {
    sub: input.user.sub,
    ...groupsClaim(input.user),
    iss: ctx.urls.issuer,
    version: 2,
    client_id: input.clientId,
    ...(revocation ? { origin_jti: input.originJti } : {}),
    event_id: input.eventId,
    token_use: 'access',
    scope: input.scopes.join(' '),
    auth_time: input.authTime,
    exp: input.exp,
    iat: input.iat,
    ...(revocation ? { jti: randomUUID() } : {}),
    username: input.user.username
  }
}

export function idTokenClaims (ctx: Context, input: ClaimsInput, extra: { accessToken?: string, nonce?: string }): Record<string, unknown> {
  const { email, email_verified: emailVerified, identities: _string, ...rest } = userAttributes(input.user)
  const attributes: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(rest)) {
    attributes[name] = VERIFIED_FLAGS.has(name) ? value === 'true' : value
  }
  const revocation = input.originJti !== undefined
  return {
    ...(extra.accessToken !== undefined ? { at_hash: atHash(extra.accessToken) } : {}),
    sub: input.user.sub,
    ...groupsClaim(input.user),
    ...(emailVerified !== undefined ? { email_verified: emailVerified === 'true' } : {}),
    iss: ctx.urls.issuer,
    'cognito:username': input.user.username,
    ...(extra.nonce !== undefined ? { nonce: extra.nonce } : {}),
    ...(revocation ? { origin_jti: input.originJti } : {}),
    aud: input.clientId,
    ...(input.user.identity !== undefined ? { identities: identitiesClaim(input.user.identity) } : {}),
    event_id: input.eventId,
    token_use: 'id',
    auth_time: input.authTime,
    ...attributes,
    exp: input.exp,
    iat: input.iat,
    ...(revocation ? { jti: randomUUID() } : {}),
    ...(email !== undefined ? { email } : {})
  }
}

export interface MachineClaimsInput {
  clientId: string
  scopes: string[]
  iat: number
  exp: number
}

/**
 * A client_credentials access token. There is no user, so `sub` is the client id and there is no `username`,
 * `cognito:groups`, `event_id` or `origin_jti` (no refresh token to revoke). AWS does not document this claim set;
 * it is what real machine tokens carry, in their order.
 */
export function machineAccessTokenClaims (ctx: Context, input: MachineClaimsInput): Record<string, unknown> {
  return {
    sub: input.clientId,
    token_use: 'access',
    scope: input.scopes.join(' '),
    auth_time: input.iat,
    iss: ctx.urls.issuer,
    exp: input.exp,
    iat: input.iat,
    version: 2,
    jti: randomUUID(),
    client_id: input.clientId
  }
}

/** Signs with the pool key for this token type, or with the pool key a header override names by kid. */
export function signToken (ctx: Context, use: 'access' | 'id', claims: Record<string, unknown>, header?: Record<string, unknown>): string {
  const defaultKey = use === 'access' ? ctx.keys.accessKey : ctx.keys.idKey
  const merged = merge({ kid: defaultKey.kid, alg: 'RS256' }, header)
  return signJwt(merged, claims, ctx.keys.find(merged.kid) ?? defaultKey)
}

/** One token endpoint answer: a fresh access token, an ID token with openid, a refresh token when asked. */
export function issueTokens (
  ctx: Context,
  client: ResolvedClient,
  user: ResolvedUser,
  session: TokenSession,
  options: { nonce?: string, withRefreshToken: boolean, refreshTokenExpiresAt?: number }
): TokenResponse {
  const iat = nowSeconds(ctx)
  const base = {
    user,
    clientId: client.clientId,
    scopes: session.scopes,
    authTime: session.authTime,
    iat,
    eventId: randomUUID(),
    ...(client.enableTokenRevocation ? { originJti: session.originJti } : {})
  }
  const accessToken = signToken(ctx, 'access', accessTokenClaims(ctx, { ...base, exp: iat + client.accessTokenValiditySeconds }))
  ctx.stores.registerAccessToken(base.eventId, session)
  const idToken = session.scopes.includes('openid')
    ? signToken(ctx, 'id', idTokenClaims(ctx, { ...base, exp: iat + client.idTokenValiditySeconds }, {
      accessToken,
      ...(options.nonce !== undefined ? { nonce: options.nonce } : {})
    }))
    : undefined
  // A rotated refresh token inherits the expiry of the one it replaces: rotation never extends a sign-in.
  const refreshToken = options.withRefreshToken
    ? ctx.stores.putRefreshToken(session, options.refreshTokenExpiresAt ?? ctx.config.now() + client.refreshTokenValiditySeconds * 1000)
    : undefined
  // Member order and the absence of `scope` follow Cognito's answer.
  return {
    ...(idToken !== undefined ? { id_token: idToken } : {}),
    access_token: accessToken,
    ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
    expires_in: client.accessTokenValiditySeconds,
    token_type: 'Bearer'
  }
}
