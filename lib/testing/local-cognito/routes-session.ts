import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticateClient } from './client-auth.js'
import { findUser, type Context } from './context.js'
import { formParams, oauthError } from './http.js'
import { verifyPoolJwt } from './jwt.js'
import { userAttributes } from './tokens.js'

const BAD_REQUEST = 'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"'
const INVALID_TOKEN_DESCRIPTION =
  'Access token is expired, disabled, or deleted, or the user has globally signed out.'
const INVALID_TOKEN = `error="invalid_token", error_description="${INVALID_TOKEN_DESCRIPTION}"`

const EMAIL_ATTRIBUTES = new Set(['email', 'email_verified'])
const PHONE_ATTRIBUTES = new Set(['phone_number', 'phone_number_verified'])

/**
 * openid alone releases every attribute; adding email, phone or profile narrows the answer to those scopes,
 * profile meaning all the remaining (standard profile and custom) attributes.
 */
function releasedAttributes (attributes: Record<string, string>, scopes: string[]): Record<string, string> {
  const email = scopes.includes('email')
  const phone = scopes.includes('phone')
  const profile = scopes.includes('profile')
  if (!email && !phone && !profile) return attributes
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => {
    if (EMAIL_ATTRIBUTES.has(name)) return email
    if (PHONE_ATTRIBUTES.has(name)) return phone
    return profile
  }))
}

async function userInfo (ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  ctx.requests.userInfo++
  reply.header('cache-control', 'no-store')
  const match = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(request.headers.authorization ?? '')
  const token = match?.[1]
  if (token === undefined) {
    return reply.code(400).header('www-authenticate', BAD_REQUEST)
      .send({ error: 'invalid_request', error_description: 'Bad OAuth2 request at UserInfo Endpoint' })
  }
  const refuse = (): FastifyReply => reply.code(401).header('www-authenticate', INVALID_TOKEN)
    .send({ error: 'invalid_token', error_description: INVALID_TOKEN_DESCRIPTION })

  let claims
  try {
    claims = await verifyPoolJwt(token, ctx.keys, ctx.urls.issuer, ctx.config.now())
  } catch {
    return refuse()
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : []
  if (claims.token_use !== 'access' || !scopes.includes('openid') || ctx.stores.isAccessTokenRevoked(claims)) return refuse()
  // Machine tokens have no username, so they end here too (they also lack openid).
  const user = findUser(ctx, typeof claims.username === 'string' ? claims.username : undefined)
  if (user === undefined || user.sub !== claims.sub) return refuse()
  return reply.code(200).type('application/json;charset=UTF-8').send({
    sub: user.sub,
    ...releasedAttributes(userAttributes(user), scopes),
    username: user.username
  })
}

export function registerSessionRoutes (app: FastifyInstance, ctx: Context): void {
  app.get('/oauth2/userInfo', async (request, reply) => userInfo(ctx, request, reply))
  app.post('/oauth2/userInfo', async (request, reply) => userInfo(ctx, request, reply))

  app.post('/oauth2/revoke', async (request, reply) => {
    ctx.requests.revoke++
    reply.header('access-control-allow-origin', '*').header('cache-control', 'no-store')
    const body = formParams(request)
    if (body === undefined || body.isRepeated('token')) return oauthError(reply, 400, 'invalid_request')
    const auth = authenticateClient(ctx, request.headers.authorization, body)
    if (!auth.ok) return oauthError(reply, auth.error === 'invalid_client' ? 401 : 400, auth.error)
    const token = body.get('token')
    if (token === undefined || !auth.client.enableTokenRevocation) return oauthError(reply, 400, 'invalid_request')
    if (token.split('.').length === 3) return oauthError(reply, 400, 'unsupported_token_type')
    const record = ctx.stores.refreshToken(token)
    // Another client's token is left alone but answered like an unknown one, so its existence does not leak.
    if (record !== undefined && record.session.clientId === auth.client.clientId) record.session.revoked = true
    return reply.code(200).send()
  })
}
