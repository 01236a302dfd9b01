import type { FastifyReply } from 'fastify'

/**
 * The plugin's own cookie reading and writing, without @fastify/cookie's app-wide hooks: those parse every
 * request's whole Cookie header on every route of the app (about 8% of a small route's throughput). Here only the
 * routes that use the session pay, and they look up just the cookies they own.
 *
 * Names and values are the store's own: cookie-safe characters (base64url, `.`, `_`, `-`), so nothing is encoded or
 * decoded. A value an attacker percent-encoded or quoted simply fails decryption.
 */

const EQUALS = 61
const DIGIT_ZERO = 48
const SPACE = 32
const TAB = 9

/**
 * The value of the first cookie called exactly `name` in a Cookie header (first, as `cookie.parse` and browsers,
 * which send the most specific path first). `nameEquals` is the name followed by `=`, kept by the caller so that a
 * lookup allocates nothing. A name only counts at the start of a pair (after `;` and spaces): `a=x name=v` is the
 * single cookie `a`, whose value a sibling domain might have set to smuggle `name` past the `__Host-` prefix.
 *
 * The header is walked pair by pair, from one `;` to the next: a search for one character that never occurs in the
 * plugin's values, where a search for the name would stop at every `_` or `c` of several kilobytes of base64url.
 */
export function readCookie (header: string | undefined, nameEquals: string): string | undefined {
  if (header === undefined) return undefined
  for (let at = pairStart(header, 0); at < header.length; at = nextPair(header, at)) {
    if (header.startsWith(nameEquals, at)) return valueAt(header, at + nameEquals.length)
  }
  return undefined
}

/**
 * The values of the cookies `<prefix>0`, `<prefix>1`, … (at most `max`, which is 10 or less), in order, up to the
 * first one missing or empty. Same rules as `readCookie`.
 */
export function readCookieChunks (header: string | undefined, prefix: string, max: number): string[] {
  const chunks: string[] = []
  for (const chunk of readNumberedCookies(header, prefix, max)) {
    if (chunk === undefined || chunk === '') break
    chunks.push(chunk)
  }
  return chunks
}

const NONE: ReadonlyArray<string | undefined> = Object.freeze([])

/**
 * Every cookie `<prefix>N` the header carries (N a digit below `max`), by number, undefined where absent: one walk
 * over the header however many there are. Same rules as `readCookie`.
 */
export function readNumberedCookies (header: string | undefined, prefix: string, max: number): ReadonlyArray<string | undefined> {
  if (header === undefined) return NONE
  let found: Array<string | undefined> | undefined
  for (let at = pairStart(header, 0); at < header.length; at = nextPair(header, at)) {
    if (!header.startsWith(prefix, at)) continue
    const digitAt = at + prefix.length
    const index = header.charCodeAt(digitAt) - DIGIT_ZERO
    if (index >= 0 && index < max && header.charCodeAt(digitAt + 1) === EQUALS) {
      found ??= []
      found[index] ??= valueAt(header, digitAt + 2)
    }
  }
  return found ?? NONE
}

/** Where the next pair starts after the pair at `at` (the header's length when there is none). */
function nextPair (header: string, at: number): number {
  const semicolon = header.indexOf(';', at)
  return semicolon === -1 ? header.length : pairStart(header, semicolon + 1)
}

/** `at`, past any spaces. */
function pairStart (header: string, at: number): number {
  while (at < header.length && isSpace(header.charCodeAt(at))) at++
  return at
}

/** The value that starts at `start`: up to the next `;`, trailing spaces left out. */
function valueAt (header: string, start: number): string {
  let end = header.indexOf(';', start)
  if (end === -1) end = header.length
  while (end > start && isSpace(header.charCodeAt(end - 1))) end--
  return header.slice(start, end)
}

function isSpace (code: number): boolean {
  return code === SPACE || code === TAB
}

export interface CookieAttributes {
  /** Seconds; 0 deletes the cookie. */
  maxAge: number
  secure: boolean
}

/** One Set-Cookie value: HttpOnly, SameSite=Lax and Path=/ always (the `__Host-` prefix requires Path=/ and no Domain). */
export function serializeCookie (name: string, value: string, { maxAge, secure }: CookieAttributes): string {
  // Expires in the past as well as Max-Age=0: the surest way to delete a cookie across browsers.
  const lifetime = maxAge > 0 ? `Max-Age=${Math.floor(maxAge)}` : 'Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT'
  return `${name}=${value}; ${lifetime}; Path=/; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`
}

/**
 * Adds a Set-Cookie to the reply, replacing one the reply already sets for the same name (a refresh followed by a
 * logout in one request must not send both). Fastify keeps several Set-Cookie headers as a list; cookies the app
 * sets through @fastify/cookie are added to that list when the reply is sent.
 */
export function setCookie (reply: FastifyReply, name: string, value: string, attributes: CookieAttributes): void {
  const line = serializeCookie(name, value, attributes)
  const existing = reply.getHeader('set-cookie')
  if (existing === undefined) {
    reply.header('set-cookie', line)
    return
  }
  const prefix = `${name}=`
  const kept = (Array.isArray(existing) ? existing : [String(existing)]).filter((cookie) => !cookie.startsWith(prefix))
  kept.push(line)
  reply.removeHeader('set-cookie')
  reply.header('set-cookie', kept)
}

/** Expires every cookie `<prefix>N` (N below `max`) that the request sent; cookies it did not send need no deleting. */
export function expireSentNumberedCookies (header: string | undefined, reply: FastifyReply, prefix: string, max: number, secure: boolean): void {
  readNumberedCookies(header, prefix, max).forEach((value, i) => {
    if (value !== undefined) setCookie(reply, `${prefix}${i}`, '', { maxAge: 0, secure })
  })
}
