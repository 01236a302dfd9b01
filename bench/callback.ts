/**
 * The login callback's own CPU: GET /login/redirect of the real plugin, driven with app.inject, against a token
 * endpoint on loopback that answers instantly with tokens minted beforehand (each with its login's nonce and an
 * at_hash). The token request itself (same request, same answer, same process) is measured apart and subtracted:
 * what remains is everything the callback does but the IdP round trip, i.e. the state check, the code exchange's
 * request and answer handling, both token verifications, the session encryption and the cookies.
 */
import Fastify from 'fastify'
import { Agent, request } from 'undici'
import fastifyCognito from '../lib/index.js'
import type { LocalCognito } from '../lib/testing/index.js'
import { CLIENT_ID, median, REDIRECT_URI, SESSION_SECRET, USER_POOL_ID } from './common.js'
import { atHash, refreshTokenLike } from './fixtures.js'

export interface CallbackResult {
  logins: number
  /** CPU per callback, microseconds, the token request included. */
  totalMicroseconds: number
  /** CPU per token request alone. */
  roundTripMicroseconds: number
  ownMicroseconds: number
  /** For scale: CPU per app.inject of a trivial route of the same app (what serving any request costs here). */
  trivialInjectMicroseconds: number
}

const LOGINS = Number(process.env.BENCH_LOGINS ?? 300)
export const CALLBACK_WARMUP = 150
/** Token requests and callbacks alternate in blocks of this many, so that drifts of the machine cancel out. */
export const CALLBACK_BLOCK = 25

function cpu (): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

interface PreparedLogin {
  url: string
  cookie: string
  code: string
}

export async function measureCallback (idp: LocalCognito): Promise<CallbackResult> {
  const answers = new Map<string, string>()
  const tokenEndpoint = Fastify()
  tokenEndpoint.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string))
  })
  tokenEndpoint.post('/oauth2/token', async (req, reply) => {
    const answer = answers.get((req.body as URLSearchParams).get('code') ?? '')
    if (answer === undefined) return await reply.code(400).send({ error: 'invalid_grant' })
    return await reply.type('application/json').send(answer)
  })
  await tokenEndpoint.listen({ host: '127.0.0.1', port: 0 })
  const address = tokenEndpoint.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  const domain = `http://127.0.0.1:${address.port}`

  const app = Fastify()
  await app.register(fastifyCognito, { userPoolId: USER_POOL_ID, clientId: CLIENT_ID, domain, issuer: idp.issuer, jwksUri: idp.jwksUri, redirectUri: REDIRECT_URI, sessionSecret: SESSION_SECRET })
  app.get('/trivial', async () => ({ ok: true }))
  await app.ready()
  const agent = new Agent({ keepAliveTimeout: 30_000 })

  try {
    const prepared: PreparedLogin[] = []
    for (let i = 0; i < LOGINS + CALLBACK_WARMUP; i++) {
      const login = await app.inject({ url: '/login' })
      const authorize = new URL(login.headers.location as string)
      const code = `code-${i}-${authorize.searchParams.get('state') ?? ''}`.slice(0, 64)
      const accessToken = await idp.mintAccessToken('alice', CLIENT_ID)
      const idToken = await idp.mintIdToken('alice', CLIENT_ID, { nonce: authorize.searchParams.get('nonce') ?? '', claims: { at_hash: atHash(accessToken) } })
      answers.set(code, JSON.stringify({ id_token: idToken, access_token: accessToken, refresh_token: refreshTokenLike(), expires_in: 3600, token_type: 'Bearer' }))
      prepared.push({
        url: `/login/redirect?code=${encodeURIComponent(code)}&state=${encodeURIComponent(authorize.searchParams.get('state') ?? '')}`,
        cookie: (login.cookies as Array<{ name: string, value: string }>).map((c) => `${c.name}=${c.value}`).join('; '),
        code
      })
    }

    async function callback (login: PreparedLogin): Promise<void> {
      const response = await app.inject({ url: login.url, headers: { cookie: login.cookie } })
      if (response.statusCode !== 302 || !String(response.headers['set-cookie']).includes('_session.0=')) {
        throw new Error(`the callback answered ${response.statusCode}: ${response.body}`)
      }
    }
    /** The same exchange as the plugin's: a form POST with a code and a PKCE verifier, the JSON answer read whole. */
    async function tokenRequest (login: PreparedLogin): Promise<void> {
      const body = new URLSearchParams({ grant_type: 'authorization_code', code: login.code, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID, code_verifier: 'v'.repeat(43) })
      const response = await request(`${domain}/oauth2/token`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: body.toString()
      })
      const text = await response.body.text()
      if (response.statusCode !== 200 || text.length === 0) throw new Error('token endpoint failed')
    }

    async function trivial (login: PreparedLogin): Promise<void> {
      await app.inject({ url: '/trivial', headers: { cookie: login.cookie } })
    }

    for (const login of prepared.slice(0, CALLBACK_WARMUP)) {
      await tokenRequest(login)
      await callback(login)
      await trivial(login)
    }
    const timed = prepared.slice(CALLBACK_WARMUP)
    const totals: number[] = []
    const roundTrips: number[] = []
    const trivials: number[] = []
    for (let first = 0; first + CALLBACK_BLOCK <= timed.length; first += CALLBACK_BLOCK) {
      const block = timed.slice(first, first + CALLBACK_BLOCK)
      let start = cpu()
      for (const login of block) await trivial(login)
      trivials.push((cpu() - start) / CALLBACK_BLOCK)
      start = cpu()
      for (const login of block) await tokenRequest(login)
      roundTrips.push((cpu() - start) / CALLBACK_BLOCK)
      start = cpu()
      for (const login of block) await callback(login)
      totals.push((cpu() - start) / CALLBACK_BLOCK)
    }
    return {
      logins: totals.length * CALLBACK_BLOCK,
      totalMicroseconds: median(totals),
      roundTripMicroseconds: median(roundTrips),
      ownMicroseconds: median(totals.map((total, block) => total - (roundTrips[block] as number))),
      trivialInjectMicroseconds: median(trivials)
    }
  } finally {
    await agent.close()
    await app.close()
    await tokenEndpoint.close()
  }
}
