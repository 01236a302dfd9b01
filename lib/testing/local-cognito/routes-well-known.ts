import type { FastifyInstance } from 'fastify'
import type { Context } from './context.js'

/** Discovery and JWKS live under the issuer path, while the endpoints they name live on the domain. */
export function registerWellKnownRoutes (app: FastifyInstance, ctx: Context): void {
  const base = `/${ctx.config.userPoolId}/.well-known`

  app.get(`${base}/openid-configuration`, async (_request, reply) => {
    ctx.requests.discovery++
    const { domain, issuer } = ctx.urls
    return reply.type('application/json;charset=UTF-8').send({
      authorization_endpoint: `${domain}/oauth2/authorize`,
      end_session_endpoint: `${domain}/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
      issuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code', 'token'],
      revocation_endpoint: `${domain}/oauth2/revoke`,
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: `${domain}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${domain}/oauth2/userInfo`
    })
  })

  app.get(`${base}/jwks.json`, async (_request, reply) => {
    ctx.requests.jwks++
    if (!ctx.jwksAvailable) {
      return reply.code(503).type('application/json;charset=UTF-8').send({ message: 'Service Unavailable' })
    }
    return reply.type('application/json;charset=UTF-8').send(ctx.keys.jwks())
  })
}
