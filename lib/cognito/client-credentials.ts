import { CognitoIdpBadResponseError, CognitoInvalidOptionError } from '../errors.js'
import { CLIENT_ID, SCOPE_TOKEN, fail, parseDomain, positiveInteger, requireString } from '../option-rules.js'
import { decodeJws } from '../tokens/jws.js'
import { isPlainObject } from '../util/checks.js'
import { clientSecretBasic, oauthError } from './client.js'
import { parseJsonObject, type CognitoHttpClient, type HttpResponse } from './http.js'
import { tokenEndpoint } from './urls.js'

/**
 * Machine-to-machine access tokens for calling other APIs: Cognito's client credentials grant, cached until shortly
 * before the token expires and fetched single flight (Cognito bills these token requests).
 */

export interface CognitoClientCredentialsOptions {
  clientId: string
  clientSecret: string
  /** Custom scopes `<resource-server>/<scope>`; none: all the client's allowed scopes (Cognito's default). */
  scopes?: string[] | undefined
  /**
   * The user pool domain whose /oauth2/token issues the token, e.g. https://x.auth.eu-west-1.amazoncognito.com.
   * Through `app.cognito.clientCredentials()` it defaults to the registration's `domain` (required when the
   * registration is bearer-only).
   */
  domain?: string | undefined
  /** Seconds before expiry at which a new token is fetched; capped to half the token's lifetime. Default 60. */
  refreshSkew?: number | undefined
}

export interface CognitoClientCredentials {
  /** An access token to send as `Authorization: Bearer <token>`: the cached one, or a new one when it is due. */
  getAccessToken (): Promise<string>
}

/** The options after validation, with the default applied. Internal. */
export interface ResolvedClientCredentialsOptions {
  readonly clientId: string
  readonly clientSecret: string
  /** undefined: no `scope` parameter, so Cognito grants every scope the app client allows. */
  readonly scopes: readonly string[] | undefined
  /** A bare origin without a trailing slash. */
  readonly domain: string
  /** Seconds. */
  readonly refreshSkew: number
}

const GROUP = 'clientCredentials'
const DEFAULT_REFRESH_SKEW = 60
/** The part of a token's lifetime `refreshSkew` may take at most, so that a short-lived token is not fetched on every call. */
const MAX_SKEW_SHARE = 0.5
/** RFC 6750 b64token: what may follow `Bearer ` in an Authorization header (nothing that could split the header). */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const ENDPOINT_NAME = 'token endpoint (client credentials)'

/** A custom scope, `<resource-server identifier>/<scope name>`: the only kind the client credentials grant gives. */
function validateScopes (value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) {
    fail('scopes', 'must be a non-empty array of strings (leave it out for every scope the app client allows)', GROUP)
  }
  for (const scope of value) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) fail('scopes', `has an invalid scope ${JSON.stringify(scope)}`, GROUP)
    const slash = scope.lastIndexOf('/')
    if (slash <= 0 || slash === scope.length - 1) {
      fail('scopes', `has ${JSON.stringify(scope)}, which is not a custom scope "<resource-server>/<scope>" (the client credentials grant gives no other)`, GROUP)
    }
  }
  return Object.freeze([...new Set(value as string[])])
}

/** Validates the options of `clientCredentials()`; a CognitoInvalidOptionError names the option, never its secret. */
export function resolveClientCredentialsOptions (raw: unknown): ResolvedClientCredentialsOptions {
  if (!isPlainObject(raw)) throw new CognitoInvalidOptionError(`fastify-cognito: ${GROUP} options are required`)
  const clientId = requireString(raw.clientId, 'clientId', GROUP)
  if (!CLIENT_ID.test(clientId)) fail('clientId', 'must contain only letters, digits, "_", "-" and "+"', GROUP)
  return Object.freeze({
    clientId,
    clientSecret: requireString(raw.clientSecret, 'clientSecret', GROUP),
    scopes: validateScopes(raw.scopes),
    domain: parseDomain(raw.domain, 'domain', GROUP),
    refreshSkew: positiveInteger(raw.refreshSkew, 'refreshSkew', DEFAULT_REFRESH_SKEW, { allowZero: true, group: GROUP })
  })
}

interface MachineToken {
  accessToken: string
  /** Seconds the token lives from the moment it was requested. */
  lifetime: number
}

/** The token's own lifetime (`exp` - `iat`), read without verification: the caller sends the token, it does not trust it. */
function claimedLifetime (accessToken: string): number | undefined {
  let payload: Record<string, unknown>
  try {
    payload = decodeJws(accessToken).payload
  } catch {
    return undefined
  }
  const { exp, iat } = payload
  return typeof exp === 'number' && typeof iat === 'number' && Number.isFinite(exp - iat) ? Math.max(0, exp - iat) : undefined
}

/** A 200 answer of the client credentials grant: an access token only (no ID or refresh token), Bearer, with expires_in. */
function readMachineToken (response: HttpResponse): MachineToken {
  const body = parseJsonObject(response, ENDPOINT_NAME)
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } = body
  if (typeof accessToken !== 'string' || !BEARER_TOKEN.test(accessToken)) {
    throw new CognitoIdpBadResponseError(`Cognito ${ENDPOINT_NAME} answered 200 without a usable access_token`)
  }
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new CognitoIdpBadResponseError(`Cognito ${ENDPOINT_NAME} answered 200 without token_type Bearer`)
  }
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new CognitoIdpBadResponseError(`Cognito ${ENDPOINT_NAME} answered 200 without a positive expires_in`)
  }
  return { accessToken, lifetime: Math.min(expiresIn, claimedLifetime(accessToken) ?? Infinity) }
}

/**
 * A cached, single-flight source of client-credentials access tokens for one app client and scope set.
 *
 * - The token is reused until `refreshSkew` seconds before it expires, the skew capped to half its lifetime.
 * - Its expiry is counted from the moment it was requested, `expires_in` or the token's own `exp` - `iat`, whichever
 *   is shorter. `exp` is never compared with this machine's clock: a clock that is off would otherwise fetch a
 *   token on every call (or keep one too long); the API receiving the token checks `exp` with its own clock.
 * - Concurrent calls share one token request. A failure is not cached: every waiter of the failed request gets
 *   the same typed error, and the next call asks again. A token that is already due when it arrives (the request
 *   took longer than the token's life minus the skew) goes to its waiters but is not kept.
 */
export class ClientCredentialsTokenSource implements CognitoClientCredentials {
  readonly #http: CognitoHttpClient
  /** Content type, Accept and the client's HTTP Basic credentials (never in the body, never in a message). */
  readonly #headers: Readonly<Record<string, string>>
  readonly #url: string
  readonly #form: string
  readonly #refreshSkewMs: number
  readonly #now: () => number
  #cached: { readonly accessToken: string, readonly dueAt: number } | undefined
  #inflight: Promise<string> | undefined

  /** `now`: epoch milliseconds. */
  constructor (http: CognitoHttpClient, options: ResolvedClientCredentialsOptions, now: () => number) {
    this.#http = http
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
    clientSecretBasic(options.clientId, options.clientSecret).apply(headers, new URLSearchParams())
    this.#headers = headers
    this.#url = tokenEndpoint(options.domain)
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    if (options.scopes !== undefined) form.set('scope', options.scopes.join(' '))
    this.#form = form.toString()
    this.#refreshSkewMs = options.refreshSkew * 1000
    this.#now = now
  }

  /** Bound, so that it can be handed around on its own (`{ getToken: source.getAccessToken }`). */
  readonly getAccessToken = async (): Promise<string> => {
    const cached = this.#cached
    if (cached !== undefined && this.#now() < cached.dueAt) return cached.accessToken
    this.#inflight ??= this.#fetch().finally(() => { this.#inflight = undefined })
    return await this.#inflight
  }

  async #fetch (): Promise<string> {
    const requestedAt = this.#now()
    const response = await this.#http.send({ method: 'POST', url: this.#url, endpointName: ENDPOINT_NAME, headers: { ...this.#headers }, body: this.#form })
    if (response.statusCode !== 200) throw oauthError(response, ENDPOINT_NAME)
    const { accessToken, lifetime } = readMachineToken(response)
    const lifetimeMs = lifetime * 1000
    const dueAt = requestedAt + lifetimeMs - Math.min(this.#refreshSkewMs, lifetimeMs * MAX_SKEW_SHARE)
    this.#cached = dueAt > this.#now() ? { accessToken, dueAt } : undefined
    return accessToken
  }
}
