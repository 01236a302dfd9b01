import type { TestContext } from 'node:test'
import Fastify from 'fastify'
import type { LocalCognito } from '../../lib/testing/index.js'
import type { FakeHandler } from './fake-cognito.js'

export interface CognitoProxy {
  /** Use as the plugin's `domain`. */
  domain: string
  /** Calls that reached the proxy, by endpoint. */
  calls: { token: number, revoke: number, userInfo: number }
  /** What the IdP answered to every call passed through, in order. */
  answers: Array<{ path: string, status: number, body: string }>
}

/**
 * Cognito's back channel (token, revoke, userInfo) passed through to a local IdP, with any endpoint replaced by a
 * handler: for faults the IdP cannot be asked to produce at that moment (userInfo refusing a token that the token
 * endpoint just issued). Sign-ins still go through an app whose `domain` is the IdP's (the browser pages are not
 * proxied); an app with the same options but this `domain` then reads the same cookies.
 */
export async function startCognitoProxy (t: TestContext, idp: LocalCognito, handlers: { token?: FakeHandler, revoke?: FakeHandler, userInfo?: FakeHandler } = {}): Promise<CognitoProxy> {
  const app = Fastify({ forceCloseConnections: true })
  const calls = { token: 0, revoke: 0, userInfo: 0 }
  const answers: CognitoProxy['answers'] = []
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })
  for (const [name, method, path] of [['token', 'POST', '/oauth2/token'], ['revoke', 'POST', '/oauth2/revoke'], ['userInfo', 'GET', '/oauth2/userInfo']] as const) {
    app.route({
      method,
      url: path,
      handler: async (request, reply) => {
        calls[name]++
        const handler = handlers[name]
        if (handler !== undefined) return await handler(request, reply)
        const headers: Record<string, string> = {}
        for (const header of ['authorization', 'content-type', 'accept']) {
          const value = request.headers[header]
          if (typeof value === 'string') headers[header] = value
        }
        const response = await fetch(`${idp.domain}${path}`, { method, headers, ...(method === 'POST' ? { body: request.body as string } : {}) })
        const type = response.headers.get('content-type')
        if (type !== null) reply.type(type)
        const challenge = response.headers.get('www-authenticate')
        if (challenge !== null) reply.header('www-authenticate', challenge)
        const body = await response.text()
        answers.push({ path, status: response.status, body })
        return await reply.code(response.status).send(body)
      }
    })
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.after(async () => { await app.close() })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { domain: `http://127.0.0.1:${address.port}`, calls, answers }
}

/** Cognito's exact answer to an access token it no longer accepts at /oauth2/userInfo. */
export const userInfoInvalidToken: FakeHandler = async (_request, reply) => {
  const description = 'Access token is expired, disabled, or deleted, or the user has globally signed out.'
  return await reply.code(401)
    .header('www-authenticate', `error="invalid_token", error_description="${description}"`)
    .send({ error: 'invalid_token', error_description: description })
}
