import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { CookieJar, location } from './app.js'

export type FakeHandler = (request: FastifyRequest, reply: FastifyReply) => unknown

/**
 * A programmable stand-in for Cognito's back-channel endpoints on loopback, for faults a real IdP cannot be asked
 * to produce: slow or oversized answers, 5xx, non-JSON, crafted tokens. Tokens it returns are minted by the real
 * local IdP, so they verify against that IdP's JWKS (the plugin's `issuer`).
 */
export async function startFakeCognito (t: TestContext, handlers: { token?: FakeHandler, revoke?: FakeHandler, jwks?: FakeHandler, userInfo?: FakeHandler }): Promise<{ domain: string, calls: Record<string, number>, forms: Array<Record<string, string>> }> {
  // Hanging handlers must not hold the test's end: close drops every connection.
  const app = Fastify({ forceCloseConnections: true })
  const calls: Record<string, number> = { token: 0, revoke: 0, jwks: 0, userInfo: 0 }
  const forms: Array<Record<string, string>> = []
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  const route = (name: 'token' | 'revoke' | 'jwks' | 'userInfo'): FakeHandler => async (request, reply) => {
    calls[name] = (calls[name] ?? 0) + 1
    if (request.body !== undefined) forms.push(request.body as Record<string, string>)
    const handler = handlers[name]
    if (handler === undefined) return await reply.code(404).send({ error: 'not_found' })
    return await handler(request, reply)
  }
  app.post('/oauth2/token', route('token'))
  app.post('/oauth2/revoke', route('revoke'))
  app.get('/jwks.json', route('jwks'))
  app.get('/oauth2/userInfo', route('userInfo'))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => { await app.close() })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { domain: `http://127.0.0.1:${address.port}`, calls, forms }
}

export interface PendingLogin {
  jar: CookieJar
  state: string
  nonce: string
  /** The callback path for the given code (and this login's state). */
  callback: (code?: string) => string
}

/** Starts a login at the app and returns what the callback needs, without going through any sign-in form. */
export async function startPendingLogin (app: FastifyInstance): Promise<PendingLogin> {
  const response = await app.inject({ url: '/login' })
  const url = new URL(location(response))
  const state = url.searchParams.get('state') ?? ''
  return {
    jar: new CookieJar().store(response),
    state,
    nonce: url.searchParams.get('nonce') ?? '',
    callback: (code = 'any-code') => `/login/redirect?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`
  }
}

export interface ExchangeRecord {
  form: Record<string, string>
  authorization: string | undefined
  status: number
  body: string
}

/** A handler that forwards to the real local IdP and records what went over the back channel. */
export function forwardTo (domain: string, path: string, records: ExchangeRecord[]): FakeHandler {
  return async (request, reply) => {
    const form = request.body as Record<string, string>
    const authorization = request.headers.authorization
    const response = await fetch(`${domain}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
      body: new URLSearchParams(form)
    })
    const body = await response.text()
    records.push({ form, authorization, status: response.status, body })
    return await reply.code(response.status).type(response.headers.get('content-type') ?? 'application/json').send(body)
  }
}
