/** The type checks the plugin applies to decoded JSON (tokens, session cookies, Cognito's answers): one of each. */

/** A JSON object: not null, not an array. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function isStringArray (value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** RFC 6749 error codes are lower-case words joined by `_`; anything else from the wire is not quoted back. */
const OAUTH_ERROR_CODE = /^[a-z_]{1,64}$/

export function isOAuthErrorCode (value: unknown): value is string {
  return typeof value === 'string' && OAUTH_ERROR_CODE.test(value)
}
