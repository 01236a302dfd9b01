import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyCognito, {
  CognitoError, CognitoForbiddenError,
  type CognitoAccessTokenPayload, type CognitoIdTokenPayload, type CognitoUser, type FastifyCognitoOptions
} from 'fastify-cognito'
import { LOGO_SVG, SESSION_SCRIPT } from './assets.js'
import { SIGNED_OUT_PATH } from './config.js'
import { registerApiRoutes, registerOpenApi, registerSwaggerUi } from './docs.js'
import { errorPage, forbiddenPage, notFoundPage } from './error-pages.js'
import { redirectToBaseUrl, sendPage, wantsHtml } from './http.js'
import { adminPage, homePage, privatePage, tokenPage, type DemoUser, type Paths } from './pages.js'

export interface DemoAppOptions {
  /** The app's one address (`http://127.0.0.1:3000`): the plugin's redirect and logout URIs are built from it. */
  baseUrl: string
  cognito: FastifyCognitoOptions
  /** Shown on the home page: "the local Cognito-compatible IdP" or "the user pool …". */
  idpLabel: string
  /** The local IdP's users, shown on the home page; none with a real user pool. */
  users: DemoUser[]
  logLevel: string
}

/** Read at request time from the decorator, so the pages follow the plugin's `prefix`. */
function pathsOf (app: FastifyInstance): Paths {
  return { login: app.cognito.loginPath, logout: app.cognito.logoutPath, refresh: app.cognito.refreshPath }
}

/** 403 from a guard becomes a readable page; other errors are pages for browsers and JSON for scripts. */
function handleError (this: FastifyInstance, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof CognitoForbiddenError && wantsHtml(request)) {
    return sendPage(reply, forbiddenPage(error.missingGroups, error.missingScopes, pathsOf(this)), 403)
  }
  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (statusCode >= 500) request.log.error({ err: error }, 'request failed')
  const code = error.code ?? 'INTERNAL_ERROR'
  const message = statusCode >= 500 ? 'Internal server error' : error.message
  if (wantsHtml(request)) return sendPage(reply, errorPage(statusCode, code, message, pathsOf(this)), statusCode)
  return reply.code(statusCode).send({ statusCode, code, error: error.name, message })
}

/** Browsers get a page; API clients Fastify's usual JSON 404, with a code like every other error here. */
function handleNotFound (request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (wantsHtml(request)) return sendPage(reply, notFoundPage(request.method, request.url), 404)
  return reply.code(404).send({ statusCode: 404, code: 'FST_ERR_NOT_FOUND', error: 'Not Found', message: `Route ${request.method}:${request.url} not found` })
}

/** The verified claims of a guarded request: the access token's, and the ID token's (through request.user.claims). */
function tokensOf (request: FastifyRequest): { accessToken: CognitoAccessTokenPayload, idToken: CognitoIdTokenPayload | null } {
  const claims = request.user!.claims
  return { accessToken: request.tokenPayload!, idToken: claims.token_use === 'id' ? claims : null }
}

/** The demo app: real pages around the plugin's routes and guards. Works with the local IdP and real Cognito alike. */
export async function buildDemoApp (options: DemoAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: options.logLevel } })
  app.addHook('onRequest', redirectToBaseUrl(options.baseUrl))
  // Before the plugin, so its routes (the login callback's errors) get the same pages.
  app.setErrorHandler(handleError)
  app.setNotFoundHandler(handleNotFound)
  await registerOpenApi(app)
  await app.register(fastifyCognito, options.cognito)
  await registerSwaggerUi(app, options.cognito.clientId as string, options.cognito.scopes ?? ['openid', 'email', 'profile'])
  registerApiRoutes(app)
  const paths = pathsOf(app)

  // The home page is public: a guard that never redirects says who, if anyone, is signed in (and refreshes an
  // expired access token on the way, as on any guarded page). A 401 just means "not signed in" here.
  const whoIsSignedIn = app.cognito.requireAuth({ redirectToLogin: false })
  async function currentUser (request: FastifyRequest, reply: FastifyReply): Promise<CognitoUser | null> {
    try {
      await whoIsSignedIn.call(app, request, reply)
      return request.user
    } catch (error) {
      if (!(error instanceof CognitoError) || error.statusCode !== 401) throw error
      // The guard prepared a 401 for an API client; this page answers 200.
      reply.removeHeader('www-authenticate')
      return null
    }
  }
  const home = async (request: FastifyRequest, reply: FastifyReply, signedOut: boolean): Promise<FastifyReply> =>
    sendPage(reply, homePage({ paths, idp: options.idpLabel, users: options.users, user: await currentUser(request, reply), signedOut }))

  app.get('/', async (request, reply) => await home(request, reply, false))
  // The plugin's logoutUri: Cognito's /logout ends here, so the page can say the sign-out worked.
  app.get(SIGNED_OUT_PATH, async (request, reply) => await home(request, reply, true))

  app.get('/private', { preHandler: app.cognito.requireAuth() }, async (request, reply) =>
    sendPage(reply, privatePage(request.user!, request.tokenPayload!, paths)))

  app.get('/admin', { preHandler: app.cognito.requireAuth({ groups: ['admin'] }) }, async (request, reply) =>
    sendPage(reply, adminPage(request.user!)))

  // The claims as a page for browsers; as JSON at /token.json, and at /token for clients that ask for JSON.
  app.get('/token', { preHandler: app.cognito.requireAuth() }, async (request, reply) => {
    if (!wantsHtml(request)) return reply.header('cache-control', 'no-store').send(tokensOf(request))
    const { accessToken, idToken } = tokensOf(request)
    return sendPage(reply, tokenPage(request.user!, accessToken, idToken, paths))
  })
  app.get('/token.json', { preHandler: app.cognito.requireAuth() }, async (request, reply) =>
    reply.header('cache-control', 'no-store').send(tokensOf(request)))

  app.get('/assets/session.js', async (_request, reply) =>
    reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').send(SESSION_SCRIPT))
  app.get('/favicon.svg', async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('image/svg+xml').send(LOGO_SVG))
  // Browsers ask for /favicon.ico where a page names no icon (a JSON response, an old bookmark). Temporary, so no
  // browser keeps it for whatever app runs on this port next.
  app.get('/favicon.ico', async (_request, reply) => reply.redirect('/favicon.svg', 302))

  return app
}
