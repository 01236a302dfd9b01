/** Pure URL building for Cognito's user-pool endpoints. No I/O. */

export interface AuthorizeUrlParameters {
  domain: string
  clientId: string
  redirectUri: string
  scopes: readonly string[]
  state: string
  codeChallenge: string
  nonce?: string | undefined
  /** Extra allow-listed parameters (identity_provider, lang, ...), already validated by the caller. */
  extra?: Readonly<Record<string, string>> | undefined
}

export function authorizeUrl (p: AuthorizeUrlParameters): string {
  const url = new URL('/oauth2/authorize', p.domain)
  const query = url.searchParams
  query.set('response_type', 'code')
  query.set('client_id', p.clientId)
  query.set('redirect_uri', p.redirectUri)
  query.set('scope', p.scopes.join(' '))
  query.set('state', p.state)
  if (p.nonce !== undefined) query.set('nonce', p.nonce)
  query.set('code_challenge', p.codeChallenge)
  query.set('code_challenge_method', 'S256')
  for (const [name, value] of Object.entries(p.extra ?? {})) query.set(name, value)
  return url.href
}

export function tokenEndpoint (domain: string): string {
  return new URL('/oauth2/token', domain).href
}

export function revokeEndpoint (domain: string): string {
  return new URL('/oauth2/revoke', domain).href
}

export function userInfoEndpoint (domain: string): string {
  return new URL('/oauth2/userInfo', domain).href
}

/** Cognito's /logout (not OIDC RP-initiated logout): `client_id` + an allowed sign-out URL. */
export function logoutUrl (domain: string, clientId: string, logoutUri: string): string {
  const url = new URL('/logout', domain)
  url.searchParams.set('client_id', clientId)
  url.searchParams.set('logout_uri', logoutUri)
  return url.href
}
