import type { FastifyRequest } from 'fastify'
import type { CognitoClient } from '../cognito/client.js'
import { CognitoCrossSiteRequestError, CognitoError } from '../errors.js'
import type { ResolvedCognitoOptions } from '../options.js'
import type { SessionRefresher } from '../session/refresh.js'
import type { SessionStore } from '../session/store.js'
import type { CognitoTokenVerifier } from '../tokens/verifier.js'

/** What every route of the plugin works with; built once in plugin.ts. */
export interface RouteContext {
  options: ResolvedCognitoOptions
  store: SessionStore
  client: CognitoClient
  verifier: CognitoTokenVerifier
  refresher: SessionRefresher
  /** Origin of the app as browsers see it (from redirectUri), for the cross-site checks. */
  appOrigin: string
}

/**
 * Refuses state-changing requests sent by another site. Browsers send `Sec-Fetch-Site` and/or `Origin` on
 * POSTs; a request with neither is not a browser's cross-site request and passes (SameSite=Lax cookies are the
 * second line of defence).
 */
export function assertSameOrigin (request: FastifyRequest, appOrigin: string): void {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new CognitoCrossSiteRequestError()
  const origin = request.headers.origin
  if (origin !== undefined && origin !== appOrigin) throw new CognitoCrossSiteRequestError()
}

/**
 * Revokes a refresh token at Cognito without letting a failure stop the caller (logout, a refused sign-in): the
 * failure is logged by its code only, and the refresh token then simply expires.
 */
export async function revokeBestEffort (context: RouteContext, request: FastifyRequest, refreshToken: string | undefined): Promise<void> {
  if (refreshToken === undefined) return
  try {
    await context.client.revoke(refreshToken)
  } catch (error) {
    const code = error instanceof CognitoError ? error.code : 'unknown'
    request.log.warn({ code }, 'fastify-cognito: revoking the refresh token failed')
  }
}

/** The request URL without its query string, for log lines of routes whose query carries codes. */
export function pathOnly (url: string): string {
  const index = url.indexOf('?')
  return index === -1 ? url : url.slice(0, index)
}
