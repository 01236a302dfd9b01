/** The sign-in parameters Cognito's /oauth2/authorize accepts besides the OAuth ones. */
export interface CognitoAuthorizationParams {
  identity_provider?: string
  idp_identifier?: string
  lang?: string
  login_hint?: string
  prompt?: 'login' | 'none' | 'select_account' | 'consent'
}

/**
 * Sign-in parameters pass to Cognito on an allow-list, each with a strict shape, so that nothing else a visitor
 * puts in the /login query reaches the authorize URL.
 */
export const AUTHORIZATION_PARAM_RULES: Readonly<Record<keyof CognitoAuthorizationParams, RegExp>> = {
  identity_provider: /^[\w .:@+-]{1,64}$/,
  idp_identifier: /^[\w.:@+-]{1,128}$/,
  lang: /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/,
  login_hint: /^[\w.@+:-]{1,254}$/,
  prompt: /^(login|none|select_account|consent)$/
}

export function pickAuthorizationParams (source: Record<string, unknown>): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const [name, rule] of Object.entries(AUTHORIZATION_PARAM_RULES)) {
    const value = source[name]
    if (typeof value === 'string' && rule.test(value)) picked[name] = value
  }
  return picked
}
