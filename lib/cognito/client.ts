import {
  CognitoIdpBadResponseError,
  CognitoInvalidClientError,
  CognitoInvalidGrantError,
  CognitoSessionExpiredError,
  CognitoTokenRequestRejectedError
} from '../errors.js'
import { isOAuthErrorCode } from '../util/checks.js'
import { CognitoHttpClient, parseJsonObject, type HttpResponse } from './http.js'
import { revokeEndpoint, tokenEndpoint, userInfoEndpoint } from './urls.js'

/** Tokens as Cognito's token endpoint returns them (validated for shape, not yet verified). */
export interface CognitoTokenSet {
  accessToken: string
  idToken: string | undefined
  /** Present after a code exchange; after a refresh only when refresh-token rotation is on. */
  refreshToken: string | undefined
  expiresIn: number
}

/**
 * How the app client authenticates at the token and revoke endpoints: a public client names itself in the
 * body, a confidential one sends HTTP Basic (RFC 6749 2.3.1: both parts form-urlencoded first).
 */
export interface ClientAuthentication {
  apply (headers: Record<string, string>, body: URLSearchParams): void
}

export function publicClient (clientId: string): ClientAuthentication {
  return { apply: (_headers, body) => { body.set('client_id', clientId) } }
}

export function clientSecretBasic (clientId: string, clientSecret: string): ClientAuthentication {
  const credentials = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')
  const authorization = `Basic ${credentials}`
  return { apply: (headers) => { headers.authorization = authorization } }
}

function formEncode (value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2)
}

/** Turns a non-200 answer into the typed error for its OAuth `error` (Cognito's status codes are not reliable). */
export function oauthError (response: HttpResponse, endpointName: string): Error {
  if (response.statusCode >= 500) {
    return new CognitoIdpBadResponseError(`Cognito ${endpointName} answered ${response.statusCode}`)
  }
  let error: unknown
  try {
    error = (JSON.parse(response.body) as { error?: unknown } | null)?.error
  } catch {
    error = undefined
  }
  if (!isOAuthErrorCode(error)) {
    return new CognitoIdpBadResponseError(`Cognito ${endpointName} answered ${response.statusCode} without an OAuth error code`)
  }
  if (error === 'invalid_grant') return new CognitoInvalidGrantError()
  if (error === 'invalid_client') return new CognitoInvalidClientError()
  return new CognitoTokenRequestRejectedError(error)
}

function readTokenSet (response: HttpResponse): CognitoTokenSet {
  const body = parseJsonObject(response, 'token endpoint')
  const { access_token: accessToken, id_token: idToken, refresh_token: refreshToken, expires_in: expiresIn, token_type: tokenType } = body
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw new CognitoIdpBadResponseError('Cognito token endpoint answered 200 without an access_token')
  }
  if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') {
    throw new CognitoIdpBadResponseError('Cognito token endpoint answered with a token_type other than Bearer')
  }
  if (idToken !== undefined && typeof idToken !== 'string') throw new CognitoIdpBadResponseError('Cognito token endpoint answered with a malformed id_token')
  if (refreshToken !== undefined && typeof refreshToken !== 'string') throw new CognitoIdpBadResponseError('Cognito token endpoint answered with a malformed refresh_token')
  return {
    accessToken,
    idToken: idToken === '' ? undefined : idToken,
    refreshToken: refreshToken === '' ? undefined : refreshToken,
    expiresIn: typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 3600
  }
}

/** Calls to Cognito's back-channel endpoints. The only module, with the JWKS loader, that does network I/O. */
export class CognitoClient {
  readonly #http: CognitoHttpClient
  readonly #auth: ClientAuthentication
  readonly #tokenUrl: string
  readonly #revokeUrl: string
  readonly #userInfoUrl: string
  readonly #redirectUri: string

  constructor (http: CognitoHttpClient, options: { domain: string, clientId: string, clientSecret: string | undefined, redirectUri: string }) {
    this.#http = http
    this.#auth = options.clientSecret === undefined
      ? publicClient(options.clientId)
      : clientSecretBasic(options.clientId, options.clientSecret)
    this.#tokenUrl = tokenEndpoint(options.domain)
    this.#revokeUrl = revokeEndpoint(options.domain)
    this.#userInfoUrl = userInfoEndpoint(options.domain)
    this.#redirectUri = options.redirectUri
  }

  /** The authorization-code grant with the PKCE verifier. */
  async exchangeCode (code: string, codeVerifier: string): Promise<CognitoTokenSet> {
    const response = await this.#post(this.#tokenUrl, 'token endpoint', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.#redirectUri,
      code_verifier: codeVerifier
    })
    if (response.statusCode !== 200) throw oauthError(response, 'token endpoint')
    const tokens = readTokenSet(response)
    if (tokens.refreshToken === undefined) throw new CognitoIdpBadResponseError('Cognito token endpoint answered the code exchange without a refresh_token')
    return tokens
  }

  /** The refresh-token grant. Cognito returns a new refresh token only when rotation is on. */
  async refresh (refreshToken: string): Promise<CognitoTokenSet> {
    const response = await this.#post(this.#tokenUrl, 'token endpoint', { grant_type: 'refresh_token', refresh_token: refreshToken })
    if (response.statusCode !== 200) throw oauthError(response, 'token endpoint')
    return readTokenSet(response)
  }

  /** Revokes a refresh token and every token issued from it. Cognito answers 200 also for unknown tokens. */
  async revoke (refreshToken: string): Promise<void> {
    const response = await this.#post(this.#revokeUrl, 'revoke endpoint', { token: refreshToken })
    if (response.statusCode !== 200) throw oauthError(response, 'revoke endpoint')
  }

  /**
   * The user's attributes from /oauth2/userInfo. Cognito sends `email_verified` and `phone_number_verified` as the
   * strings "true"/"false" there (booleans in the ID token): they come out as booleans.
   */
  async fetchUserInfo (accessToken: string): Promise<Record<string, unknown>> {
    const response = await this.#http.send({
      method: 'GET',
      url: this.#userInfoUrl,
      endpointName: 'userInfo endpoint',
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' }
    })
    // 401 is Cognito's `invalid_token`: the access token was revoked, or the user signed out everywhere
    // (GlobalSignOut). The session is over; anything else is Cognito's fault.
    if (response.statusCode === 401) throw new CognitoSessionExpiredError('Cognito refused the access token at userInfo (revoked, or signed out everywhere): sign in again')
    if (response.statusCode !== 200) {
      throw new CognitoIdpBadResponseError(`Cognito userInfo endpoint answered ${response.statusCode}`)
    }
    const info = parseJsonObject(response, 'userInfo endpoint')
    for (const name of ['email_verified', 'phone_number_verified']) {
      if (info[name] === 'true') info[name] = true
      else if (info[name] === 'false') info[name] = false
    }
    return info
  }

  async #post (url: string, endpointName: string, fields: Record<string, string>): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json'
    }
    const body = new URLSearchParams(fields)
    this.#auth.apply(headers, body)
    return await this.#http.send({ method: 'POST', url, endpointName, headers, body: body.toString() })
  }
}
