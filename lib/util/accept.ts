import type { FastifyRequest } from 'fastify'

/** q-value of the first media range in an Accept header that matches one of `types`; 0 when none does. */
function quality (accept: string, types: readonly string[]): number {
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    if (!types.includes(type)) continue
    const q = params.find((param) => param.startsWith('q='))
    const value = q === undefined ? 1 : Number(q.slice(2))
    return Number.isFinite(value) ? value : 0
  }
  return 0
}

/** A browser navigation: a GET that prefers HTML to JSON. Such requests get a login redirect instead of a 401. */
export function isBrowserNavigation (request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false
  const accept = request.headers.accept
  if (typeof accept !== 'string') return false
  const html = quality(accept, ['text/html', 'application/xhtml+xml'])
  return html > 0 && html >= quality(accept, ['application/json'])
}
