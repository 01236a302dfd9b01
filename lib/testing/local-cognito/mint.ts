import { randomUUID } from 'node:crypto'
import { mintMachineAccessToken } from './client-credentials.js'
import { STANDARD_SCOPES } from './config.js'
import { findClient, findUser, nowSeconds, type Context } from './context.js'
import { merge } from './jwt.js'
import { accessTokenClaims, idTokenClaims, signToken, type ClaimsInput } from './tokens.js'
import type { LocalCognitoTokenOverrides } from './types.js'

/**
 * Defaults for a minted token. An unknown client id is allowed on purpose (a token for "another app" is a classic
 * negative test); an unknown user is not, because the claims would have no sub to stand on.
 */
function mintInput (ctx: Context, username: string, clientId: string, use: 'access' | 'id', overrides: LocalCognitoTokenOverrides): ClaimsInput {
  const user = findUser(ctx, username)
  if (user === undefined) throw new Error(`local-cognito: unknown user ${JSON.stringify(username)}`)
  const client = findClient(ctx, clientId)
  const iat = nowSeconds(ctx)
  const validity = use === 'access' ? client?.accessTokenValiditySeconds : client?.idTokenValiditySeconds
  return {
    user,
    clientId,
    scopes: client?.allowedScopes ?? STANDARD_SCOPES,
    authTime: iat,
    iat,
    exp: iat + (overrides.expiresInSeconds ?? validity ?? 3600),
    eventId: randomUUID(),
    ...(client?.enableTokenRevocation === false ? {} : { originJti: randomUUID() })
  }
}

export function mintAccessToken (ctx: Context, username: string, clientId: string, overrides: LocalCognitoTokenOverrides = {}): string {
  const claims = merge(accessTokenClaims(ctx, mintInput(ctx, username, clientId, 'access', overrides)), overrides.claims)
  // Registered so that revokeAllSessions() also makes userInfo refuse minted tokens.
  ctx.stores.registerAccessToken(claims.event_id)
  return signToken(ctx, 'access', claims, overrides.header)
}

export function mintIdToken (
  ctx: Context,
  username: string,
  clientId: string,
  overrides: LocalCognitoTokenOverrides & { nonce?: string } = {}
): string {
  const input = mintInput(ctx, username, clientId, 'id', overrides)
  const extra = overrides.nonce !== undefined ? { nonce: overrides.nonce } : {}
  const claims = merge(idTokenClaims(ctx, input, extra), overrides.claims)
  return signToken(ctx, 'id', claims, overrides.header)
}

/**
 * A client_credentials access token. An unknown client id is allowed for negative tests; its default scopes are
 * then none, and a known client's are its allowed resource-server scopes.
 */
export function mintMachineToken (ctx: Context, clientId: string, overrides: LocalCognitoTokenOverrides & { scopes?: string[] } = {}): string {
  const client = findClient(ctx, clientId)
  const scopes = overrides.scopes ?? client?.allowedScopes.filter(scope => !STANDARD_SCOPES.includes(scope)) ?? []
  const validity = overrides.expiresInSeconds ?? client?.accessTokenValiditySeconds ?? 3600
  return mintMachineAccessToken(ctx, clientId, scopes, validity, {
    ...(overrides.claims !== undefined ? { claims: overrides.claims } : {}),
    ...(overrides.header !== undefined ? { header: overrides.header } : {})
  })
}
