import type { FastifyRequest } from 'fastify'
import { CognitoCrossSiteRequestError } from '../errors.js'

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
