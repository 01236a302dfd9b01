import { nowSeconds, type Context } from './context.js'
import type { Params } from './http.js'
import { machineAccessTokenClaims, signToken } from './tokens.js'
import type { ResolvedClient } from './types.js'

export interface MachineTokenResponse {
  access_token: string
  expires_in: number
  token_type: 'Bearer'
}

/**
 * `scope` absent or empty means every scope the client allows. Scopes outside the client's list (unknown ones, and
 * OIDC scopes such as openid, which machine clients can never have) are refused with invalid_scope. AWS's token
 * endpoint page says such scopes are "ignored"; invalid_scope is what Cognito is observed to answer.
 */
export function grantMachineScopes (client: ResolvedClient, requested: string | undefined): string[] | undefined {
  const wanted = [...new Set((requested ?? '').split(' ').filter(scope => scope !== ''))]
  if (wanted.length === 0) return [...client.allowedScopes]
  return wanted.every(scope => client.allowedScopes.includes(scope)) ? wanted : undefined
}

/** Machine-to-machine: an access token only, never an ID or refresh token. */
export function clientCredentials (ctx: Context, client: ResolvedClient, body: Params): MachineTokenResponse | { error: string } {
  if (!client.allowedOAuthFlows.includes('client_credentials')) return { error: 'unauthorized_client' }
  const scopes = grantMachineScopes(client, body.get('scope'))
  if (scopes === undefined) return { error: 'invalid_scope' }
  const accessToken = mintMachineAccessToken(ctx, client.clientId, scopes, client.accessTokenValiditySeconds)
  return { access_token: accessToken, expires_in: client.accessTokenValiditySeconds, token_type: 'Bearer' }
}

export function mintMachineAccessToken (
  ctx: Context,
  clientId: string,
  scopes: string[],
  validitySeconds: number,
  overrides: { claims?: Record<string, unknown>, header?: Record<string, unknown> } = {}
): string {
  const iat = nowSeconds(ctx)
  const claims = machineAccessTokenClaims(ctx, { clientId, scopes, iat, exp: iat + validitySeconds })
  for (const [name, value] of Object.entries(overrides.claims ?? {})) {
    if (value === undefined) delete claims[name]
    else claims[name] = value
  }
  return signToken(ctx, 'access', claims, overrides.header)
}
