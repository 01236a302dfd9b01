import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { hasSignIn, type CognitoContext, type SignInContext } from '../../lib/context.js'
import { resolveOptions } from '../../lib/options.js'
import { buildContext as buildPluginContext } from '../../lib/plugin.js'
import type { FastifyCognitoOptions } from '../../lib/types-options.js'

/**
 * The context of one registration, built by lib/plugin.ts itself, for unit tests of the parts that take a context
 * (flows, authenticate, request helpers) on routes the test declares itself. Call it before `app.ready()` (the login
 * codec registers @fastify/secure-session in a scope of its own). The HTTP client is closed after the test.
 */
export async function buildContext (t: Pick<TestContext, 'after'>, app: FastifyInstance, rawOptions: FastifyCognitoOptions): Promise<CognitoContext> {
  const context = await buildPluginContext(app, resolveOptions(rawOptions))
  t.after(async () => { await context.http.close() })
  return context
}

/** {@link buildContext} for options with browser sign-in: what the flows take. */
export async function buildSignInContext (t: Pick<TestContext, 'after'>, app: FastifyInstance, rawOptions: FastifyCognitoOptions): Promise<SignInContext> {
  const context = await buildContext(t, app, rawOptions)
  if (!hasSignIn(context)) throw new Error('buildSignInContext: the options do not turn browser sign-in on')
  return context
}
