import type { FastifyReply, FastifyRequest } from 'fastify'
import { checkAuthentication, hasBearerHeader } from './authenticate.js'
import { pickAuthorizationParams } from './cognito/sign-in-params.js'
import { hasSignIn, type CognitoContext, type SignInContext } from './context.js'
import { CognitoError, CognitoInvalidOptionError } from './errors.js'
import { logout } from './flows/logout.js'
import { refreshNow } from './flows/refresh-now.js'
import { startLogin } from './flows/start-login.js'
import type { CognitoRequestHelpers, FastifyCognitoSessionData } from './types.js'

/** `request.cognito`: the plugin's flows as functions for handlers, bound to one request. */
class RequestHelpers implements CognitoRequestHelpers {
  readonly #request: FastifyRequest
  readonly #context: CognitoContext

  constructor (request: FastifyRequest, context: CognitoContext) {
    this.#request = request
    this.#context = context
  }

  /** The context with browser sign-in, or the typed error a bearer-only registration answers these helpers with. */
  #signIn (helper: string): SignInContext {
    if (hasSignIn(this.#context)) return this.#context
    throw new CognitoInvalidOptionError(`fastify-cognito: request.cognito.${helper}() needs browser sign-in; this registration is bearer-only (give "domain", "redirectUri" and "sessionSecret" to turn sign-in on)`)
  }

  login (reply: FastifyReply, options: Parameters<CognitoRequestHelpers['login']>[1] = {}): FastifyReply {
    const context = this.#signIn('login')
    const params = pickAuthorizationParams({ identity_provider: options.identityProvider, prompt: options.prompt, login_hint: options.loginHint })
    return startLogin(context, this.#request, reply, { returnTo: options.returnTo, params })
  }

  async logout (reply: FastifyReply): Promise<FastifyReply> {
    return await logout(this.#signIn('logout'), this.#request, reply)
  }

  async logoutEverywhere (reply: FastifyReply): Promise<FastifyReply> {
    return await logout(this.#signIn('logoutEverywhere'), this.#request, reply, true)
  }

  async refresh (reply: FastifyReply): Promise<{ expiresAt: number }> {
    return await refreshNow(this.#signIn('refresh'), this.#request, reply)
  }

  async isAuthenticated (): Promise<boolean> {
    try {
      await checkAuthentication(this.#request, this.#context)
      return true
    } catch (error) {
      if (error instanceof CognitoError && error.statusCode === 401) return false
      throw error
    }
  }

  /**
   * What `onLogin` kept, only from a session that passes the guard's checks right now (maximum age, tokens valid,
   * not signed out). Synchronous: when a check would need the JWKS fetched first, there is no data (a guard before
   * the handler has fetched it). A Bearer request has no session.
   */
  get sessionData (): FastifyCognitoSessionData | undefined {
    const request = this.#request
    if (this.#context.signIn === undefined || hasBearerHeader(request.headers.authorization)) return undefined
    const session = this.#context.signIn.store.readSession(request)
    if (session?.data === undefined) return undefined
    try {
      const checking = checkAuthentication(request, this.#context)
      if (checking instanceof Promise) {
        checking.catch(() => {})
        return undefined
      }
    } catch {
      return undefined
    }
    return session.data
  }
}

export function requestHelpersFor (request: FastifyRequest, context: CognitoContext): CognitoRequestHelpers {
  return new RequestHelpers(request, context)
}
