import type { FastifyInstance, RouteOptions } from 'fastify'
import type { CognitoContext } from '../context.js'
import { CognitoInvalidOptionError } from '../errors.js'
import { isPluginRoute } from '../guard-context.js'
import { guardPolicyOf, type GuardPolicy } from '../guards.js'
import type { ResolvedOpenApiOptions } from '../options.js'
import { documentGuardedSchema, pluginRouteSchema, securitySchemes } from './document.js'

/**
 * Documents guarded routes for @fastify/swagger, which the app may register before or after the plugin (or not at
 * all: then this costs one array of route references until the app is ready, and nothing of @fastify/swagger is
 * loaded).
 * - `onRoute` only collects the routes, so that a guard another `onRoute` hook adds later (`guardContext`) is seen.
 * - `onReady` gives each guarded route (and each of the plugin's routes) a `config.swaggerTransform`, which
 *   @fastify/swagger calls while it builds the document, after `ready`, with the document being built: it adds the
 *   security schemes there (@fastify/swagger looks them up while it reads a route's `security`) and returns the
 *   documented schema. The route's own schema is never changed, so Fastify's validation and serialization are not.
 * - @fastify/swagger calls a route's `swaggerTransform` instead of its global `transform`: the route's own
 *   `swaggerTransform`, else the `openapi.transform` option (the same function as @fastify/swagger's), runs first.
 */

type Schema = Record<string, unknown>
interface TransformArgs { schema: Schema | undefined, url: string, route: RouteOptions, openapiObject?: Record<string, unknown>, swaggerObject?: unknown }
interface TransformResult { schema?: Schema, url?: string }
type Transform = (args: TransformArgs) => TransformResult

const SWAGGER_2 = 'fastify-cognito: @fastify/swagger builds a Swagger 2.0 document, which fastify-cognito does not document (Swagger 2 has no bearer scheme): give @fastify/swagger the `openapi` option (OpenAPI 3), or register fastify-cognito with `openapi: false`'

function policyOfRoute (route: RouteOptions): GuardPolicy | undefined {
  const given = route.preHandler
  const handlers: unknown[] = given === undefined ? [] : Array.isArray(given) ? given : [given]
  for (const handler of handlers) {
    const policy = guardPolicyOf(handler)
    if (policy !== undefined) return policy
  }
  return undefined
}

function pluginRouteName (context: CognitoContext, route: RouteOptions): 'login' | 'callback' | 'refresh' | 'logout' {
  const { paths } = context
  return route.url === paths.login ? 'login' : route.url === paths.callback ? 'callback' : route.url === paths.refresh ? 'refresh' : 'logout'
}

/** Whether the route's own `security` names one of the plugin's schemes, which must then be in the document. */
function namesScheme (schema: Schema | undefined, options: ResolvedOpenApiOptions): boolean {
  const security = schema?.security
  if (!Array.isArray(security)) return false
  return security.some((requirement) => requirement !== null && typeof requirement === 'object' &&
    (Object.hasOwn(requirement, options.oauth2SchemeName) || Object.hasOwn(requirement, options.bearerSchemeName)))
}

/** Adds the schemes to the document being built, keeping a scheme the app defines itself under the same name. */
function addSchemes (args: TransformArgs, schemes: Record<string, unknown>): void {
  const document = args.openapiObject
  if (document === undefined) throw new CognitoInvalidOptionError(SWAGGER_2)
  const components = (document.components ??= {}) as Record<string, unknown>
  const existing = (components.securitySchemes ??= {}) as Record<string, unknown>
  for (const [name, scheme] of Object.entries(schemes)) existing[name] ??= scheme
}

/** A route's `swaggerTransform`: the schemes, then the transform that ran before, then `document`. */
function transformWith (before: Transform | undefined, schemes: () => Record<string, unknown>, document: (schema: Schema | undefined) => Schema): Transform {
  return function cognitoSwaggerTransform (args) {
    addSchemes(args, schemes())
    const result = before === undefined ? {} : before(args)
    return { ...result, schema: document(result.schema ?? args.schema) }
  }
}

/** The transforms of the collected routes; returns every scope a guard requires (for the OAuth2 scheme). */
function documentRoutes (context: CognitoContext, options: ResolvedOpenApiOptions, routes: RouteOptions[], schemes: () => Record<string, unknown>): Set<string> {
  const guardScopes = new Set<string>()
  const signIn = context.signIn !== undefined
  for (const route of routes) {
    const config = (route.config ?? {}) as { swaggerTransform?: Transform | false }
    const before = typeof config.swaggerTransform === 'function' ? config.swaggerTransform : options.transform
    let document: (schema: Schema | undefined) => Schema
    if (isPluginRoute(context, route)) {
      const documented = pluginRouteSchema(pluginRouteName(context, route), options.tag)
      document = () => options.hidePluginRoutes ? { ...documented, hide: true } : documented
    } else {
      const policy = policyOfRoute(route)
      if (policy !== undefined) {
        for (const scope of policy.scopes) guardScopes.add(scope)
        document = (schema) => documentGuardedSchema(schema, policy, options, signIn)
      } else if (namesScheme(route.schema as Schema | undefined, options)) {
        // A guard the hook cannot see (inside @fastify/auth's function): the route declares its security itself.
        document = (schema) => schema ?? {}
      } else {
        continue
      }
    }
    // A new config object: the app may share one between routes.
    route.config = { ...config, swaggerTransform: transformWith(before, schemes, document) } as unknown as RouteOptions['config']
  }
  return guardScopes
}

export function registerOpenApi (fastify: FastifyInstance, context: CognitoContext): void {
  const options = context.options.openapi
  if (options === undefined) return
  let routes: RouteOptions[] = []
  fastify.addHook('onRoute', function collectCognitoRoutes (route) { routes.push(route) })
  fastify.addHook('onReady', function documentCognitoRoutes (done) {
    const collected = routes
    routes = []
    if (fastify.hasPlugin('@fastify/swagger')) {
      let schemes: Record<string, unknown> = {}
      const guardScopes = documentRoutes(context, options, collected, () => schemes)
      const signIn = context.signIn?.options
      schemes = securitySchemes(options, signIn === undefined ? undefined : { domain: signIn.domain, scopes: signIn.scopes }, guardScopes)
    }
    done()
  })
}
