import { CognitoInvalidOptionError } from './errors.js'

/** The rules every option resolver of the plugin shares: one error shape that names the option. */

export const CLIENT_ID = /^[\w+-]{1,128}$/
/** RFC 6749 scope-token: printable ASCII but space, " and \ */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** `group` names what the option belongs to when it is not the plugin's own (`clientCredentials`). */
export function fail (option: string, problem: string, group?: string): never {
  throw new CognitoInvalidOptionError(`fastify-cognito: ${group === undefined ? '' : `${group} `}option "${option}" ${problem}`)
}

export function requireString (value: unknown, option: string, group?: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'is required and must be a non-empty string', group)
  return value
}

function isLoopbackHost (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]'
}

/** An absolute http(s) URL; plain http only on loopback, where no one else can read the traffic. */
export function parseUrl (value: unknown, option: string, { allowQuery = false, group }: { allowQuery?: boolean, group?: string | undefined } = {}): URL {
  const text = requireString(value, option, group)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    // Not the text itself: a malformed URL may still hold credentials someone typed into it.
    fail(option, 'must be an absolute URL', group)
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    fail(option, 'must use https (plain http is accepted only for localhost / 127.0.0.1)', group)
  }
  if (url.username !== '' || url.password !== '') fail(option, 'must not contain credentials', group)
  if (url.hash !== '') fail(option, 'must not contain a fragment', group)
  if (!allowQuery && url.search !== '') fail(option, 'must not contain a query string', group)
  return url
}

export function withoutTrailingSlash (url: URL): string {
  return url.href.replace(/\/+$/, '')
}

/** A user-pool domain: https (or loopback http), no path, no trailing slash. */
export function parseDomain (value: unknown, option: string, group?: string): string {
  const domain = withoutTrailingSlash(parseUrl(value, option, { group }))
  if (new URL(domain).pathname !== '/') fail(option, 'must be the bare domain URL, without a path', group)
  return domain
}

export function positiveInteger (value: unknown, option: string, fallback: number, { allowZero = false, group }: { allowZero?: boolean, group?: string } = {}): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
    fail(option, allowZero ? 'must be a whole number >= 0' : 'must be a whole number > 0', group)
  }
  return value
}

export function boundedInteger (value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `must be a whole number from ${min} to ${max}`)
  return value
}

export function booleanOption (value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(option, 'must be a boolean')
  return value
}

export function hookOption<T> (value: T | undefined, option: string): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(option, 'must be a function')
  return value
}

/** Distinct scope tokens; `fallback` when absent. */
export function scopeList (value: unknown, option: string, fallback: string[]): string[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value) || value.length === 0) fail(option, 'must be a non-empty array of strings')
  for (const scope of value) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) fail(option, `has an invalid scope ${JSON.stringify(scope)}`)
  }
  return [...new Set(value as string[])]
}

/** An app client id, or a non-empty list of them (the first one first). */
export function clientIdList (value: unknown, option: string): string[] {
  const ids = Array.isArray(value) ? value : [value]
  if (ids.length === 0) fail(option, 'must be a client id or a non-empty array of them')
  ids.forEach((id, index) => {
    const name = Array.isArray(value) ? `${option}[${index}]` : option
    requireString(id, name)
    if (!CLIENT_ID.test(id as string)) fail(name, 'must contain only letters, digits, "_", "-" and "+"')
  })
  return [...new Set(ids as string[])]
}
