import type { AddressInfo } from 'node:net'
import fastifyCookie from '@fastify/cookie'
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify'
import { resolveConfig } from './config.js'
import { createContext, trackRunningPool } from './context.js'
import { errorPage, sendHtml } from './html.js'
import { oauthError, pathOnly } from './http.js'
import { KeyRing } from './keys.js'
import { mintAccessToken, mintIdToken, mintMachineToken } from './mint.js'
import { registerBrowserRoutes } from './routes-browser.js'
import { registerFederationRoutes } from './routes-federation.js'
import { registerSessionRoutes } from './routes-session.js'
import { registerTokenRoute } from './routes-token.js'
import { registerWellKnownRoutes } from './routes-well-known.js'
import type { LocalCognito, LocalCognitoOptions } from './types.js'

const BACK_CHANNEL = new Set(['/oauth2/token', '/oauth2/revoke', '/oauth2/userInfo'])

/** Framework-level failures (body too large, broken headers) still answer like Cognito would: a 4xx, never a 500. */
function handleError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400
  if (error.statusCode === undefined || error.statusCode >= 500) request.log.error({ code: error.code }, 'local-cognito: unexpected error')
  const path = pathOnly(request.url)
  // The back channel's CORS header must survive failures too, or a browser hides the error from the app.
  if (path === '/oauth2/token' || path === '/oauth2/revoke') reply.header('access-control-allow-origin', '*')
  if (BACK_CHANNEL.has(path)) return oauthError(reply, status, 'invalid_request')
  return sendHtml(reply, status, errorPage('The request could not be processed.'))
}

export async function startLocalCognito (options: LocalCognitoOptions = {}): Promise<LocalCognito> {
  const config = resolveConfig(options)
  const ctx = createContext(config, await KeyRing.create(), { domain: '', issuer: '' })

  const app = Fastify({
    logger: config.logger
      ? { serializers: { req: (request: FastifyRequest) => ({ method: request.method, url: pathOnly(request.url) }) } }
      : false
  })
  // Bodies stay raw strings so every endpoint decides itself how to answer a wrong content type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })
  await app.register(fastifyCookie)
  app.setErrorHandler(handleError)
  registerWellKnownRoutes(app, ctx)
  registerBrowserRoutes(app, ctx)
  registerFederationRoutes(app, ctx)
  registerTokenRoute(app, ctx)
  registerSessionRoutes(app, ctx)

  await app.listen({ host: config.host, port: config.port })
  const { port } = app.server.address() as AddressInfo
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const domain = `http://${host}:${port}`
  const issuer = `${domain}/${config.userPoolId}`
  ctx.urls = { domain, issuer }
  const untrack = trackRunningPool(ctx)

  return {
    domain,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    userPoolId: config.userPoolId,
    region: config.region,
    clients: config.clients,
    users: config.users,
    identityProviders: config.identityProviders,
    requests: ctx.requests,
    get lastAuthorizeQuery () {
      return ctx.lastAuthorizeQuery
    },
    mintAccessToken: async (username, clientId, overrides) => mintAccessToken(ctx, username, clientId, overrides),
    mintIdToken: async (username, clientId, overrides) => mintIdToken(ctx, username, clientId, overrides),
    mintMachineToken: async (clientId, overrides) => mintMachineToken(ctx, clientId, overrides),
    rotateKeys: async () => { await ctx.keys.rotate() },
    setJwksAvailable: (available) => { ctx.jwksAvailable = available },
    revokeAllSessions: () => { ctx.stores.revokeAll() },
    close: async () => {
      untrack()
      await app.close()
    }
  }
}
