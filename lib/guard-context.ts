import type { FastifyInstance, RouteOptions } from 'fastify'
import type { CognitoContext } from './context.js'
import { CognitoInvalidOptionError } from './errors.js'
import type { CognitoDecorator } from './types.js'

/** Whether the route is one of the plugin's own (`/login`, ...), which a context guard must leave open. */
export function isPluginRoute (context: CognitoContext, route: Pick<RouteOptions, 'url'>): boolean {
  if (context.signIn === undefined) return false
  const { login, callback, refresh, logout } = context.paths
  return route.url === login || route.url === callback || route.url === refresh || route.url === logout
}

/**
 * `app.cognito.guardContext(instance, options)`: every route registered on `instance` afterwards gets the guard as
 * its first route-level preHandler. Unlike `instance.addHook('preHandler', guard)`, the guard is then in the route's
 * options, where an `onRoute` hook (the OpenAPI documentation's) can see it. The plugin's own routes stay open.
 */
export function guardContextFactory (context: CognitoContext, requireAuth: CognitoDecorator['requireAuth']): CognitoDecorator['guardContext'] {
  return function guardContext (instance: FastifyInstance, options) {
    if (instance === null || typeof instance !== 'object' || typeof instance.addHook !== 'function') {
      throw new CognitoInvalidOptionError('fastify-cognito: guardContext(instance, options) needs the Fastify instance of the context to guard')
    }
    const guard = requireAuth(options)
    instance.addHook('onRoute', function guardCognitoContext (route) {
      if (isPluginRoute(context, route)) return
      const given = route.preHandler
      const list = given === undefined ? [] : Array.isArray(given) ? given : [given]
      if (list[0] === guard) return
      route.preHandler = [guard, ...list]
    })
  }
}
