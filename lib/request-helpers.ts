import type { FastifyReply, FastifyRequest } from 'fastify'
import { CognitoError, CognitoUnauthenticatedError } from './errors.js'
import { authenticateNow, type GuardDependencies } from './guards.js'
import { pickAuthorizationParams } from './cognito/sign-in-params.js'
import type { RouteContext } from './routes/context.js'
import { startLogin } from './routes/login.js'
import { performLogout } from './routes/logout.js'
import type { CognitoRequestHelpers, FastifyCognitoSessionData } from './types.js'

/** `request.cognito`: the plugin's routes as functions for handlers, bound to one request. */
class RequestHelpers implements CognitoRequestHelpers {
  readonly #request: FastifyRequest
  readonly #context: RouteContext
  readonly #guard: GuardDependencies

  constructor (request: FastifyRequest, context: RouteContext, guard: GuardDependencies) {
    this.#request = request
    this.#context = context
    this.#guard = guard
  }

  login (reply: FastifyReply, options: Parameters<CognitoRequestHelpers['login']>[1] = {}): FastifyReply {
    const params = pickAuthorizationParams({ identity_provider: options.identityProvider, prompt: options.prompt, login_hint: options.loginHint })
    return startLogin(this.#context, this.#request, reply, { returnTo: options.returnTo, params })
  }

  async logout (reply: FastifyReply): Promise<FastifyReply> {
    return await performLogout(this.#context, this.#request, reply)
  }

  async refresh (reply: FastifyReply): Promise<{ expiresAt: number }> {
    const session = this.#context.store.readSession(this.#request)
    if (session === null) throw new CognitoUnauthenticatedError()
    const { verified } = await this.#context.refresher.refresh(this.#request, reply, session)
    return { expiresAt: verified.access.exp }
  }

  async isAuthenticated (): Promise<boolean> {
    try {
      await authenticateNow(this.#request, this.#guard)
      return true
    } catch (error) {
      if (error instanceof CognitoError && error.statusCode === 401) return false
      throw error
    }
  }

  get sessionData (): FastifyCognitoSessionData | undefined {
    return this.#context.store.readSession(this.#request)?.data
  }
}

export function requestHelpersFor (request: FastifyRequest, context: RouteContext, guard: GuardDependencies): CognitoRequestHelpers {
  return new RequestHelpers(request, context, guard)
}
