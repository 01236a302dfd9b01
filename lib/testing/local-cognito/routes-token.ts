import type { FastifyInstance, FastifyReply } from 'fastify'
import { authenticateClient } from './client-auth.js'
import { clientCredentials, type MachineTokenResponse } from './client-credentials.js'
import { findUser, type Context } from './context.js'
import { formParams, oauthError, type Params } from './http.js'
import { s256 } from './jwt.js'
import { issueTokens, type TokenResponse } from './tokens.js'
import type { ResolvedClient } from './types.js'

type GrantResult = TokenResponse | MachineTokenResponse | { error: string }

// RFC 7636 4.1: 43 to 128 unreserved characters.
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

function exchangeCode (ctx: Context, client: ResolvedClient, body: Params): GrantResult {
  const value = body.get('code')
  const redirectUri = body.get('redirect_uri')
  if (value === undefined || redirectUri === undefined) return { error: 'invalid_request' }
  const code = ctx.stores.takeCode(value)
  if (code === undefined || code.expiresAt <= ctx.config.now()) return { error: 'invalid_grant' }
  if (code.clientId !== client.clientId) return { error: 'invalid_grant' }
  // Cognito's documented meaning of unauthorized_client does not cover this; it is what a redirect_uri that differs
  // from the authorize one (a missing trailing slash, say) is observed to get, instead of invalid_grant.
  if (code.redirectUri !== redirectUri) return { error: 'unauthorized_client' }
  // PKCE is enforced only when the authorize request carried a challenge, exactly as Cognito does.
  if (code.codeChallenge !== undefined) {
    const verifier = body.get('code_verifier')
    if (verifier === undefined || !CODE_VERIFIER.test(verifier) || s256(verifier) !== code.codeChallenge) {
      return { error: 'invalid_grant' }
    }
  }
  const user = findUser(ctx, code.username)
  if (user === undefined) return { error: 'invalid_grant' }
  const session = ctx.stores.createSession({
    username: user.username,
    clientId: client.clientId,
    scopes: code.scopes,
    authTime: code.authTime
  })
  return issueTokens(ctx, client, user, session, {
    withRefreshToken: true,
    ...(code.nonce !== undefined ? { nonce: code.nonce } : {})
  })
}

function refresh (ctx: Context, client: ResolvedClient, body: Params): GrantResult {
  const value = body.get('refresh_token')
  if (value === undefined) return { error: 'invalid_request' }
  const record = ctx.stores.usableRefreshToken(value)
  if (record === undefined || record.session.clientId !== client.clientId) return { error: 'invalid_grant' }
  const user = findUser(ctx, record.session.username)
  if (user === undefined) return { error: 'invalid_grant' }
  if (client.refreshTokenRotation) {
    // The first rotation starts the grace period; later uses inside it do not extend it.
    record.retiresAt ??= ctx.config.now() + client.rotationGracePeriodSeconds * 1000
  }
  // No nonce on refreshed ID tokens (OIDC Core 12.2), and no refresh token unless rotation is on; a rotated one
  // expires when the one it replaces would have.
  return issueTokens(ctx, client, user, record.session, {
    withRefreshToken: client.refreshTokenRotation,
    refreshTokenExpiresAt: record.expiresAt
  })
}

function grant (ctx: Context, client: ResolvedClient, grantType: string, body: Params): GrantResult {
  if (grantType === 'client_credentials') return clientCredentials(ctx, client, body)
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return { error: 'unsupported_grant_type' }
  // A machine-to-machine client never signs users in, so it has neither codes nor refresh tokens.
  if (!client.allowedOAuthFlows.includes('code')) return { error: 'unauthorized_client' }
  return grantType === 'authorization_code' ? exchangeCode(ctx, client, body) : refresh(ctx, client, body)
}

function countGrant (ctx: Context, grantType: string | undefined): void {
  if (grantType === 'authorization_code') ctx.requests.tokenAuthorizationCode++
  if (grantType === 'refresh_token') ctx.requests.tokenRefresh++
  if (grantType === 'client_credentials') ctx.requests.tokenClientCredentials++
}

/**
 * Cognito answers `Access-Control-Allow-Origin: *` here, so a browser public client (a single-page app, Swagger
 * UI doing PKCE) can exchange its code. The preflight answer's exact headers are not documented by AWS.
 */
export function allowCors (reply: FastifyReply): FastifyReply {
  return reply.header('access-control-allow-origin', '*')
}

export function registerTokenRoute (app: FastifyInstance, ctx: Context): void {
  app.options('/oauth2/token', async (_request, reply) => {
    return allowCors(reply)
      .header('access-control-allow-methods', 'POST')
      // Swagger UI's token request sends X-Requested-With: without it in the list, its preflight fails.
      .header('access-control-allow-headers', 'authorization, content-type, x-requested-with')
      .header('access-control-max-age', '86400')
      .code(204)
      .send()
  })

  app.post('/oauth2/token', async (request, reply) => {
    ctx.requests.token++
    allowCors(reply).header('cache-control', 'no-store').header('pragma', 'no-cache')
    const body = formParams(request)
    if (body === undefined) return oauthError(reply, 400, 'invalid_request')
    const grantType = body.get('grant_type')
    countGrant(ctx, grantType)
    if (grantType === undefined || body.isRepeated()) return oauthError(reply, 400, 'invalid_request')

    // Client authentication comes first, so a failed attempt never consumes the code.
    const auth = authenticateClient(ctx, request.headers.authorization, body)
    if (!auth.ok) return oauthError(reply, 400, auth.error)

    const result = grant(ctx, auth.client, grantType, body)
    if ('error' in result) return oauthError(reply, 400, result.error)
    return reply.code(200).type('application/json;charset=UTF-8').send(result)
  })
}
