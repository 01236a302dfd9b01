import { createHash, timingSafeEqual } from 'node:crypto'
import { findClient, type Context } from './context.js'
import type { Params } from './http.js'
import type { ResolvedClient } from './types.js'

export type ClientAuthResult =
  | { ok: true, client: ResolvedClient }
  | { ok: false, error: 'invalid_client' | 'invalid_request' }

/** Compares digests so neither the length nor the content of a secret leaks through timing. */
export function safeEqual (given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()
  return timingSafeEqual(digest(given), digest(expected))
}

/** RFC 6749 2.3.1: both halves of Basic credentials are form-urlencoded before base64. */
function formDecode (value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return undefined
  }
}

function parseBasic (header: string): { id: string, secret: string } | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header)
  if (match?.[1] === undefined) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return undefined
  const id = formDecode(decoded.slice(0, colon))
  const secret = formDecode(decoded.slice(colon + 1))
  return id === undefined || secret === undefined ? undefined : { id, secret }
}

/**
 * Cognito accepts client_secret_basic and client_secret_post for the same confidential client, and a bare
 * client_id for a public one. A public client presenting any secret is refused, as is mixing both methods.
 */
export function authenticateClient (ctx: Context, authorization: string | undefined, body: Params): ClientAuthResult {
  const fail = (error: 'invalid_client' | 'invalid_request' = 'invalid_client'): ClientAuthResult => ({ ok: false, error })
  if (body.isRepeated('client_id', 'client_secret')) return fail('invalid_request')
  const bodyId = body.get('client_id')
  const bodySecret = body.get('client_secret')

  if (authorization !== undefined) {
    const basic = parseBasic(authorization)
    if (basic === undefined) return fail()
    if (bodySecret !== undefined) return fail('invalid_request')
    if (bodyId !== undefined && bodyId !== basic.id) return fail()
    const client = findClient(ctx, basic.id)
    if (client?.clientSecret === undefined || !safeEqual(basic.secret, client.clientSecret)) return fail()
    return { ok: true, client }
  }

  const client = findClient(ctx, bodyId)
  if (client === undefined) return fail()
  if (client.clientSecret === undefined) return bodySecret === undefined ? { ok: true, client } : fail()
  if (bodySecret === undefined || !safeEqual(bodySecret, client.clientSecret)) return fail()
  return { ok: true, client }
}
