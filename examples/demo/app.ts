import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyCognito, { CognitoForbiddenError, type FastifyCognitoOptions } from 'fastify-cognito'
import { PRIVATE_SCRIPT, adminPage, errorPage, forbiddenPage, homePage, privatePage, type DemoUser, type Paths } from './pages.js'

export interface DemoAppOptions {
  cognito: FastifyCognitoOptions
  /** Shown on the home page: "the local Cognito-compatible IdP" or "the user pool …". */
  idpLabel: string
  /** The local IdP's users, shown on the home page; none with a real user pool. */
  users: DemoUser[]
  logLevel: string
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
  // No form-action: browsers apply it to the logout redirect to Cognito too.
].join('; ')

function sendPage (reply: FastifyReply, html: string, statusCode = 200): FastifyReply {
  return reply.code(statusCode)
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(html)
}

function prefersHtml (request: FastifyRequest): boolean {
  return /text\/html/.test(request.headers.accept ?? '')
}

/** 403 from a guard becomes a readable page; other errors are pages for browsers and JSON for scripts. */
function handleError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof CognitoForbiddenError) return sendPage(reply, forbiddenPage(error.missingGroups, error.missingScopes), 403)
  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
  const code = error.code ?? 'INTERNAL_ERROR'
  const message = statusCode >= 500 ? 'Internal server error' : error.message
  if (prefersHtml(request)) return sendPage(reply, errorPage(statusCode, code, message), statusCode)
  return reply.code(statusCode).send({ statusCode, code, error: error.name, message })
}

/** The demo app: real pages around the plugin's routes and guards. Works with the local IdP and real Cognito alike. */
export async function buildDemoApp (options: DemoAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: options.logLevel } })
  // Before the plugin, so its routes (the login callback's errors) get the same pages.
  app.setErrorHandler(handleError)
  await app.register(fastifyCognito, options.cognito)
  const paths: Paths = { login: app.cognito.loginPath, logout: app.cognito.logoutPath, refresh: app.cognito.refreshPath }

  app.get('/', async (_request, reply) => sendPage(reply, homePage({ paths, idp: options.idpLabel, users: options.users })))

  app.get('/assets/private.js', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(PRIVATE_SCRIPT))

  app.get('/private', { preHandler: app.cognito.requireAuth() }, async (request, reply) =>
    sendPage(reply, privatePage(request.user!, request.tokenPayload!, paths)))

  app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async (request, reply) =>
    sendPage(reply, adminPage(request.user!)))

  // The verified claims: the access token's, and the ID token's (through request.user.claims).
  app.get('/token', { preHandler: app.cognito.requireAuth() }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const claims = request.user!.claims
    return { accessToken: request.tokenPayload, idToken: claims.token_use === 'id' ? claims : null }
  })

  return app
}
