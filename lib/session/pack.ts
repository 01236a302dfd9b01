import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { SESSION_TOKEN_FIELDS as TOKEN_FIELDS } from './model.js'
import { isPlainObject } from '../util/checks.js'

/**
 * A compact binary form of the session, for the cookie.
 *
 * A session is mostly JWTs, and a JWT is base64url-encoded JSON: each group name appears, base64-encoded, in both
 * the access and the ID token. Decoding every token segment back to its bytes and deflating the lot makes a
 * session of 40 groups about 2.5 times smaller on the wire (fewer cookie chunks; every request carries less).
 *
 * Compressing before encrypting leaks the compressed length: a problem (CRIME, BREACH) only where an attacker can
 * place chosen text beside a secret in the same plaintext and watch the length over many tries. A session holds
 * the tokens Cognito issued to its own user and what the app's `onLogin` returns; see SECURITY.md.
 *
 * Layout, deflated: a version byte; the JSON of every field but the tokens; then each token field in turn. A
 * token field is absent (0), text (255, then the text) or its segments (their count, then each segment's bytes),
 * every byte string prefixed by its length. Tokens are split into segments only when they re-encode exactly, so
 * unpacking gives back the very same strings.
 */

const FORMAT = 1
const ABSENT = 0
const TEXT = 255
/** More than any real session holds; an inflated size above it is refused (the input is authenticated anyway). */
const MAX_UNPACKED_BYTES = 256 * 1024

type Packable = object & Partial<Record<(typeof TOKEN_FIELDS)[number], string>>

export function packSession <T extends Packable> (session: T): Buffer {
  const rest: Record<string, unknown> = { ...session }
  for (const field of TOKEN_FIELDS) delete rest[field]
  const parts: Buffer[] = [Buffer.of(FORMAT)]
  pushBytes(parts, Buffer.from(JSON.stringify(rest), 'utf8'))
  for (const field of TOKEN_FIELDS) pushToken(parts, session[field])
  return deflateRawSync(Buffer.concat(parts))
}

function pushBytes (parts: Buffer[], bytes: Buffer): void {
  const length = Buffer.allocUnsafe(4)
  length.writeUInt32BE(bytes.length)
  parts.push(length, bytes)
}

function pushToken (parts: Buffer[], token: string | undefined): void {
  if (token === undefined) {
    parts.push(Buffer.of(ABSENT))
    return
  }
  const segments = token.split('.').map((segment) => Buffer.from(segment, 'base64url'))
  const exact = segments.length < TEXT && segments.map((bytes) => bytes.toString('base64url')).join('.') === token
  if (!exact) {
    parts.push(Buffer.of(TEXT))
    pushBytes(parts, Buffer.from(token, 'utf8'))
    return
  }
  parts.push(Buffer.of(segments.length))
  for (const bytes of segments) pushBytes(parts, bytes)
}

/** The session object `packSession` was given (as JSON would copy it), or undefined for anything malformed. */
export function unpackSession (packed: Uint8Array): Record<string, unknown> | undefined {
  let bytes: Buffer
  try {
    bytes = inflateRawSync(packed, { maxOutputLength: MAX_UNPACKED_BYTES })
  } catch {
    return undefined
  }
  const reader = new Reader(bytes)
  if (reader.byte() !== FORMAT) return undefined
  const json = reader.bytes()
  if (json === undefined) return undefined
  let session: unknown
  try {
    session = JSON.parse(json.toString('utf8'))
  } catch {
    return undefined
  }
  if (!isPlainObject(session)) return undefined
  const result = session
  for (const field of TOKEN_FIELDS) {
    const kind = reader.byte()
    if (kind === undefined) return undefined
    if (kind === ABSENT) continue
    if (kind === TEXT) {
      const text = reader.bytes()
      if (text === undefined) return undefined
      result[field] = text.toString('utf8')
      continue
    }
    const segments: string[] = []
    for (let i = 0; i < kind; i++) {
      const segment = reader.bytes()
      if (segment === undefined) return undefined
      segments.push(segment.toString('base64url'))
    }
    result[field] = segments.join('.')
  }
  return reader.done() ? result : undefined
}

/** Reads what `pushBytes` wrote; undefined past the end, never an exception. */
class Reader {
  #offset = 0
  readonly #buffer: Buffer

  constructor (buffer: Buffer) {
    this.#buffer = buffer
  }

  byte (): number | undefined {
    if (this.#offset >= this.#buffer.length) return undefined
    return this.#buffer[this.#offset++]
  }

  bytes (): Buffer | undefined {
    if (this.#offset + 4 > this.#buffer.length) return undefined
    const length = this.#buffer.readUInt32BE(this.#offset)
    const start = this.#offset + 4
    if (start + length > this.#buffer.length) return undefined
    this.#offset = start + length
    return this.#buffer.subarray(start, start + length)
  }

  done (): boolean {
    return this.#offset === this.#buffer.length
  }
}
