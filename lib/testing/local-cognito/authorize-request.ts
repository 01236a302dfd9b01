import { findClient, type Context } from './context.js'
import { withParams, type Params } from './http.js'
import type { ResolvedClient } from './types.js'

export interface AuthorizeRequest {
  client: ResolvedClient
  redirectUri: string
  scopes: string[]
  state?: string
  nonce?: string
  codeChallenge?: string
  /** Only with managed login: the classic hosted UI ignores `prompt`. */
  prompt?: Prompt
  /** A configured federated provider named by `identity_provider`; absent for COGNITO or no parameter. */
  identityProvider?: string
  /** The validated query, re-serialised; what `/login` carries along. */
  query: string
}

export type AuthorizeOutcome =
  | { kind: 'page', message: string }
  | { kind: 'redirect', location: string }
  | { kind: 'ok', request: AuthorizeRequest }

export type Prompt = 'login' | 'none' | 'select_account' | 'consent'

const NEEDS_OPENID = new Set(['email', 'phone', 'profile'])
const PROMPTS = new Set<string>(['login', 'none', 'select_account', 'consent'])
// RFC 7636: an S256 challenge is the base64url SHA-256, always 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

/** Cognito ignores scopes the client may not use and drops email/phone/profile without openid. */
export function grantScopes (requested: string | undefined, allowed: string[]): string[] {
  const wanted = requested === undefined ? allowed : requested.split(/\s+/).filter(scope => scope !== '')
  const granted = [...new Set(wanted)].filter(scope => allowed.includes(scope))
  const openid = granted.includes('openid')
  return granted.filter(scope => openid || !NEEDS_OPENID.has(scope))
}

/** Why the PKCE parameters are unusable, or undefined when they are fine or absent (PKCE is optional). */
function checkPkce (query: Params): string | undefined {
  const codeChallenge = query.get('code_challenge')
  const method = query.get('code_challenge_method')
  if (codeChallenge === undefined && method === undefined) return undefined
  if (codeChallenge === undefined || method === undefined) return 'code_challenge and code_challenge_method go together'
  if (method !== 'S256') return 'code_challenge_method must be S256'
  return S256_CHALLENGE.test(codeChallenge) ? undefined : 'malformed code_challenge'
}

/**
 * The checks shared by /oauth2/authorize, GET /login and POST /login: the latter two must never trust a query
 * that merely looks like it came through authorize.
 */
export function checkAuthorizeRequest (ctx: Context, query: Params): AuthorizeOutcome {
  const client = findClient(ctx, query.get('client_id'))
  if (client === undefined || query.isRepeated('client_id')) return { kind: 'page', message: 'Invalid client_id.' }
  const redirectUri = query.get('redirect_uri')
  if (redirectUri === undefined || query.isRepeated('redirect_uri') || !client.callbackUrls.includes(redirectUri)) {
    return { kind: 'page', message: 'redirect_mismatch: redirect_uri is not a callback URL of this app client.' }
  }
  const state = query.isRepeated('state') ? undefined : query.get('state')
  const fail = (error: string, description: string): AuthorizeOutcome => ({
    kind: 'redirect',
    location: withParams(redirectUri, { error, error_description: description, state })
  })

  if (query.isRepeated()) return fail('invalid_request', 'repeated parameter')
  const responseType = query.get('response_type')
  if (responseType === undefined) return fail('invalid_request', 'response_type is required')
  // The implicit grant exists in Cognito but is never enabled on these clients.
  if (responseType === 'token') return fail('unauthorized_client', 'unauthorized client')
  if (responseType !== 'code') return fail('unsupported_response_type', 'unsupported response type')

  // Only 'code' clients sign users in; a client_credentials client is refused like any client without the grant.
  if (!client.allowedOAuthFlows.includes('code')) return fail('unauthorized_client', 'unauthorized client')

  const identityProvider = query.get('identity_provider')
  if (identityProvider !== undefined && identityProvider !== 'COGNITO' && !ctx.config.federatedUsers.has(identityProvider)) {
    return fail('invalid_request', 'identity provider not supported by the local user pool')
  }

  const pkceProblem = checkPkce(query)
  if (pkceProblem !== undefined) return fail('invalid_request', pkceProblem)
  const codeChallenge = query.get('code_challenge')

  const scopes = grantScopes(query.get('scope'), client.allowedScopes)
  if (scopes.length === 0) return fail('invalid_scope', 'invalid_scope')

  // The classic hosted UI predates prompt support and ignores the parameter, whatever its value.
  const prompt = ctx.config.loginUi === 'managed-login' ? query.get('prompt') : undefined
  // How managed login answers a value outside OIDC's four is not documented; refusing it keeps client bugs visible.
  if (prompt !== undefined && !PROMPTS.has(prompt)) return fail('invalid_request', 'unsupported prompt')

  const nonce = scopes.includes('openid') ? query.get('nonce') : undefined
  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      scopes,
      ...(state !== undefined ? { state } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
      ...(codeChallenge !== undefined ? { codeChallenge } : {}),
      ...(prompt !== undefined ? { prompt: prompt as Prompt } : {}),
      ...(identityProvider !== undefined && identityProvider !== 'COGNITO' ? { identityProvider } : {}),
      query: query.toString()
    }
  }
}
