import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { CognitoClient } from './cognito/client.js'
import { CognitoHttpClient } from './cognito/http.js'
import { CognitoError } from './errors.js'
import { createRequireAuth, sessionUser, type GuardDependencies } from './guards.js'
import { resolveOptions, type FastifyCognitoOptions } from './options.js'
import { registerCallbackRoute } from './routes/callback.js'
import type { RouteContext } from './routes/context.js'
import { registerLoginRoute } from './routes/login.js'
import { registerLogoutRoute } from './routes/logout.js'
import { registerRefreshRoute } from './routes/refresh.js'
import { requestHelpersFor } from './request-helpers.js'
import { SessionRefresher } from './session/refresh.js'
import { SessionStore } from './session/store.js'
import { JwksKeyStore } from './tokens/jwks.js'
import { CognitoTokenVerifier } from './tokens/verifier.js'
import type { CognitoDecorator } from './types.js'

const plugin: FastifyPluginAsync<FastifyCognitoOptions> = async function fastifyCognito (fastify: FastifyInstance, rawOptions) {
  const options = resolveOptions(rawOptions)

  // No @fastify/cookie here: its hooks would parse the Cookie header on every route of the app. The session store
  // reads and writes the plugin's own cookies itself, only where a session is used (session/cookies.ts).

  const http = new CognitoHttpClient(options.httpTimeout)
  const keys = new JwksKeyStore(http, options.jwksUri, options.jwksCooldown, Date.now, options.jwks)
  const verifier = new CognitoTokenVerifier(keys, options)
  const client = new CognitoClient(http, options)
  const store = await SessionStore.register(fastify, { ...options, sessionMaxAge: options.maxSessionAge })
  const onRefresh = options.onRefresh
  const refresher = new SessionRefresher({
    client,
    verifier,
    store,
    requireIdToken: options.scopes.includes('openid'),
    maxSessionAge: options.maxSessionAge,
    onRefreshed: onRefresh === undefined ? undefined : async (request, { session }) => { await onRefresh(request, sessionUser(session)) }
  })
  const context: RouteContext = { options, store, client, verifier, refresher, appOrigin: new URL(options.redirectUri).origin }

  const loginPath = `${options.prefix}/login`
  const guardDependencies: GuardDependencies = {
    verifier,
    store,
    loginPath,
    refresher: options.autoRefresh ? refresher : undefined,
    refreshSkew: options.refreshSkew,
    maxSessionAge: options.maxSessionAge
  }
  const decorator: CognitoDecorator = {
    requireAuth: createRequireAuth(guardDependencies),
    verifyAccessToken: async (token) => await verifier.verifyAccessToken(token),
    verifyIdToken: async (token, expected) => await verifier.verifyIdToken(token, { nonce: expected?.nonce }),
    loginPath,
    logoutPath: `${options.prefix}/logout`,
    refreshPath: `${options.prefix}/refresh`
  }
  fastify.decorate('cognito', decorator)
  fastify.decorateRequest('user', null)
  fastify.decorateRequest('tokenPayload', null)
  fastify.decorateRequest('cognito', {
    getter (this: FastifyRequest) {
      return requestHelpersFor(this, context, guardDependencies)
    }
  })

  await fastify.register(async function cognitoRoutes (routes) {
    // HTML forms (`<form method="post" action="/logout">`) post an empty application/x-www-form-urlencoded body,
    // which Fastify answers with 415 unless a parser exists. The plugin's routes read no body: accept and drop it,
    // in this encapsulated context only, without replacing a parser the app already has.
    if (!routes.hasContentTypeParser('application/x-www-form-urlencoded')) {
      routes.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, _body, done) => { done(null, undefined) })
    }
    registerLoginRoute(routes, context)
    registerCallbackRoute(routes, context)
    registerRefreshRoute(routes, context)
    registerLogoutRoute(routes, context)
  }, { prefix: options.prefix })

  if (options.prefetchJwks) {
    fastify.addHook('onReady', async function prefetchCognitoJwks () {
      try {
        await keys.refresh()
      } catch (error) {
        // Not fatal: the keys are fetched again on first use, and the app should start while Cognito is away.
        fastify.log.warn({ code: error instanceof CognitoError ? error.code : 'unknown' }, 'fastify-cognito: could not prefetch the JWKS')
      }
    })
  }
  fastify.addHook('onClose', async function closeCognitoClient () {
    await http.close()
  })
}

/** The Fastify plugin. Register it once per app client: `app.register(fastifyCognito, options)`. */
export const fastifyCognito = fp(plugin, { fastify: '5.x', name: 'fastify-cognito' })
