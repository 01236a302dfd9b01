/**
 * Single-thread verification of one token, no result cache, each library over the same distinct tokens: the cost
 * of the first sight of a token. The floor is node:crypto `verify` alone (RSA-2048 + SHA-256 over the signing
 * input, inputs already decoded). Run by bench/run.ts in its own process; prints one JSON line.
 */
import { createPublicKey, verify as rsaVerify } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createVerifier } from 'fast-jwt'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { CognitoJwtVerifier } from 'aws-jwt-verify'
import { CognitoHttpClient } from '../lib/cognito/http.js'
import { JwksKeyStore } from '../lib/tokens/jwks.js'
import { CognitoTokenVerifier } from '../lib/tokens/verifier.js'
import { CLIENT_ID, median, USER_POOL_ID } from './common.js'

export interface VerifyResult {
  /** Per verifier: median CPU microseconds per verification, and median ratio to the floor of the same round. */
  results: Array<{ id: string, label: string, microseconds: number, ratio: number }>
}

interface Input {
  tokens: string[]
  jwks: { keys: Array<Record<string, unknown>> }
  issuer: string
  accessKid: string
}

/** Blocks of this many verifications per verifier, all verifiers in turn, for this many rounds. */
const BLOCK = 40
const ROUNDS = Number(process.env.BENCH_VERIFY_ROUNDS ?? 120)
const WARMUP_ROUNDS = 10

function cpu (): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

function checkAccessClaims (payload: Record<string, unknown>): void {
  if (payload.token_use !== 'access' || payload.client_id !== CLIENT_ID) throw new Error('not an access token of this client')
}

type Verify = (token: string, index: number) => unknown

async function main (): Promise<void> {
  const input = JSON.parse(await readFile(process.env.BENCH_INPUT ?? '', 'utf8')) as Input
  const { tokens, jwks, issuer } = input
  const jwk = jwks.keys.find((key) => key.kid === input.accessKid)
  const key = createPublicKey({ key: jwk as never, format: 'jwk' })
  const pem = key.export({ type: 'spki', format: 'pem' }).toString()

  const decoded = tokens.map((token) => {
    const [header, payload, signature] = token.split('.') as [string, string, string]
    return { data: Buffer.from(`${header}.${payload}`, 'ascii'), signature: Buffer.from(signature, 'base64url') }
  })
  const http = new CognitoHttpClient(1000)
  const keys = new JwksKeyStore(http, 'https://unused.example.com/jwks.json', 0, Date.now, jwks)
  const ours = new CognitoTokenVerifier([{ issuer, userPoolId: issuer.slice(issuer.lastIndexOf('/') + 1), clientIds: [CLIENT_ID], keys }], {
    clientId: CLIENT_ID,
    clockTolerance: 5,
    tokenCacheSize: 0
  })
  const keySet = createLocalJWKSet(jwks as never)
  const aws = CognitoJwtVerifier.create({ userPoolId: USER_POOL_ID, tokenUse: 'access', clientId: CLIENT_ID })
  aws.cacheJwks(jwks as never)
  const fastJwt = createVerifier({ key: pem, algorithms: ['RS256'], allowedIss: issuer })

  const verifiers: Array<{ id: string, label: string, verify: Verify, async: boolean }> = [
    {
      id: 'floor',
      label: 'node:crypto verify (the RSA floor)',
      async: false,
      verify: (_token, index) => {
        const input = decoded[index] as { data: Buffer, signature: Buffer }
        if (!rsaVerify('sha256', input.data, key, input.signature)) throw new Error('bad signature')
      }
    },
    { id: 'fastify-cognito', label: 'fastify-cognito verifier, no cache: verifyAccessToken() (async)', async: true, verify: async (token) => await ours.verifyAccessToken(token) },
    { id: 'fastify-cognito-sync', label: 'fastify-cognito verifier, no cache: the synchronous path the guard takes', async: false, verify: (token) => ours.verifyAccessTokenNow(token) },
    {
      id: 'fast-jwt',
      label: 'fast-jwt, no cache',
      async: false,
      verify: (token) => { checkAccessClaims(fastJwt(token) as Record<string, unknown>) }
    },
    { id: 'aws-jwt-verify', label: 'aws-jwt-verify (hydrated JWKS)', async: true, verify: async (token) => await aws.verify(token) },
    {
      id: 'jose',
      label: 'jose jwtVerify + local JWKS',
      async: true,
      verify: async (token) => { checkAccessClaims((await jwtVerify(token, keySet, { issuer, algorithms: ['RS256'] })).payload as Record<string, unknown>) }
    }
  ]

  /**
   * CPU time (not wall time: other processes on the machine do not count) per verification, in blocks of BLOCK,
   * every verifier in turn in each round; per round each verifier's ratio to the floor of the same round, so that
   * drifts cancel. Reported: the median per-verification time and the median ratio over the rounds.
   */
  const times = new Map<string, number[]>(verifiers.map((verifier) => [verifier.id, []]))
  const ratios = new Map<string, number[]>(verifiers.map((verifier) => [verifier.id, []]))
  let next = 0
  for (let round = 0; round < ROUNDS + WARMUP_ROUNDS; round++) {
    const perOperation = new Map<string, number>()
    for (const verifier of verifiers) {
      const start = cpu()
      for (let i = 0; i < BLOCK; i++) {
        const index = next++ % tokens.length
        if (verifier.async) await verifier.verify(tokens[index] as string, index)
        else verifier.verify(tokens[index] as string, index)
      }
      perOperation.set(verifier.id, (cpu() - start) / BLOCK)
    }
    if (round < WARMUP_ROUNDS) continue
    const floor = perOperation.get('floor') as number
    for (const [id, microseconds] of perOperation) {
      times.get(id)?.push(microseconds)
      ratios.get(id)?.push(microseconds / floor)
    }
  }
  await http.close()
  const result: VerifyResult = {
    results: verifiers.map((verifier) => ({
      id: verifier.id,
      label: verifier.label,
      microseconds: median(times.get(verifier.id) ?? []),
      ratio: median(ratios.get(verifier.id) ?? [])
    }))
  }
  console.log(JSON.stringify(result))
}

await main()
