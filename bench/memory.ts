/**
 * Memory of the verified-token cache: 100,000 distinct Cognito-shaped tokens go through the cache at its default
 * bound, each stored as the verifier stores it (the token, its deep-frozen claims, kid and key, indexed by a number
 * made from the token's last characters) with the user object the guard builds once per token. Signing 100,000 real tokens
 * would take minutes, so the tokens are a real token's header and claims with fresh ids and a random signature:
 * same sizes, same shapes. Run with --expose-gc by bench/run.ts; prints one JSON line.
 */
import { createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { bearerAuthentication } from '../lib/authenticate.js'
import { cacheIndex, DEFAULT_TOKEN_CACHE_SIZE, interner, keptClaims, type VerifiedAccessToken } from '../lib/tokens/token-cache.js'
import { ExpiringCache } from '../lib/util/expiring-cache.js'
import { CognitoHttpClient } from '../lib/cognito/http.js'
import { JwksKeyStore } from '../lib/tokens/jwks.js'

export interface MemoryResult {
  tokens: number
  tokenLength: number
  bound: number
  size: number
  /** Right after the 100,000 tokens (after a full GC): V8 still holds the old-generation room the churn used. */
  peakRssGrowthMb: number
  /** Once the process is idle and V8 has given back what it does not use (its memory reducer, ~10 s), both sides. */
  rssGrowthMb: number
  heapGrowthMb: number
  heldAfterExpiry: number
  how: string
}

const SETTLE_MS = 10_000

async function idle (): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
}

const TOKENS = 100_000

const gc = (globalThis as { gc?: () => void }).gc ?? (() => { throw new Error('run with --expose-gc') })

function settle (): NodeJS.MemoryUsage {
  gc()
  gc()
  return process.memoryUsage()
}

async function main (): Promise<void> {
  const input = JSON.parse(await readFile(process.env.BENCH_INPUT ?? '', 'utf8')) as { token: string, jwks: { keys: Array<Record<string, unknown>> } }
  const [header, payload] = input.token.split('.') as [string, string]
  const template = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
  const kid = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid: string }).kid
  const key: KeyObject = createPublicKey({ key: input.jwks.keys.find((jwk) => jwk.kid === kid) as never, format: 'jwk' })

  const POOL_ID = String(template.iss).slice(String(template.iss).lastIndexOf('/') + 1)
  // The entries point at their pool's key store, as the verifier's do: one store for all of them.
  const keys = new JwksKeyStore(new CognitoHttpClient(1000), 'https://unused.example.com/jwks.json', 0, Date.now, input.jwks)
  let clock = Date.now() / 1000
  const cache = new ExpiringCache<VerifiedAccessToken, number>(DEFAULT_TOKEN_CACHE_SIZE, () => clock)
  const intern = interner()
  let tokenLength = 0

  /** One distinct token and its claims as the verifier makes them; kept in the cache when `keep`. */
  function token (keep: boolean): void {
    const claims = { ...template, origin_jti: randomUUID(), event_id: randomUUID(), jti: randomUUID() }
    const token = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${randomBytes(256).toString('base64url')}`
    tokenLength = token.length
    // As the verifier and the guard: claims parsed from the token and kept as the cache keeps them, the user built once.
    const verified = keptClaims(JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>, intern)
    // The guard keeps the authentication beside the entry, keyed by the claims object, for as long as it lives.
    bearerAuthentication(verified, () => POOL_ID)
    if (keep) cache.set(cacheIndex(token), { token, claims: verified, kid, key, keys }, verified.exp + 5)
  }

  // The same work without keeping anything first: the heap and the allocator reach the size this churn needs
  // (as in a server under load), so that what follows measures what the cache itself keeps.
  for (let i = 0; i < TOKENS; i++) token(false)
  const beforePeak = settle()
  await idle()
  const before = settle()
  for (let i = 0; i < TOKENS; i++) token(true)
  const peak = settle()
  await idle()
  const after = settle()
  const size = cache.size
  clock += 2 * 24 * 3600
  cache.prune()
  const result: MemoryResult = {
    tokens: TOKENS,
    tokenLength,
    bound: DEFAULT_TOKEN_CACHE_SIZE,
    size,
    peakRssGrowthMb: (peak.rss - beforePeak.rss) / 2 ** 20,
    rssGrowthMb: (after.rss - before.rss) / 2 ** 20,
    heapGrowthMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    heldAfterExpiry: cache.size,
    how: 'the tokens are a real token\'s header and claims with fresh jti/event_id/origin_jti and a random 256-byte signature ' +
      '(signing 100,000 RS256 tokens would take minutes); each is stored as the verifier stores it, with the guard\'s user ' +
      'object. The same 100,000-token churn runs once without the cache first, so that the heap and the allocator already ' +
      'have the size that garbage needs, as in a server under load; the growth is then what the cache keeps.'
  }
  console.log(JSON.stringify(result))
}

await main()
