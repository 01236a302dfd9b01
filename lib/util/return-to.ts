const MAX_RETURN_TO_LENGTH = 2048
const PLACEHOLDER_ORIGIN = 'http://return-to.invalid'
// Printable ASCII without backslash: browsers treat "\" as "/" and silently drop tabs and newlines,
// which turns "/\evil.com" or "/\t/evil.com" into a protocol-relative URL to another host.
const PRINTABLE_PATH = /^[\x21-\x5B\x5D-\x7E]+$/

function startsLikeAuthority (path: string): boolean {
  return path.startsWith('//') || path.startsWith('/\\')
}

function hasControlCharacter (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7F) return true
  }
  return false
}

/**
 * True when `value` is a path on this origin that is safe to redirect to: starts with exactly one "/", has no
 * scheme, no authority, no backslash, no control or non-ASCII characters, and stays so after percent-decoding
 * (so "/%2F%2Fevil.com" is refused too). Everything else is dropped by the callers, never "repaired".
 */
export function isSafeReturnTo (value: string): boolean {
  if (value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return false
  if (!value.startsWith('/') || !PRINTABLE_PATH.test(value) || startsLikeAuthority(value)) return false
  let decoded: string
  try {
    decoded = decodeURIComponent(value)
  } catch {
    return false
  }
  if (startsLikeAuthority(decoded) || decoded.includes('\\') || hasControlCharacter(decoded)) return false
  try {
    return new URL(value, PLACEHOLDER_ORIGIN).origin === PLACEHOLDER_ORIGIN
  } catch {
    return false
  }
}

/** `value` when it is a safe same-origin path (see isSafeReturnTo), else undefined. */
export function safeReturnTo (value: unknown): string | undefined {
  return typeof value === 'string' && isSafeReturnTo(value) ? value : undefined
}
