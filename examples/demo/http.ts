import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify'

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  // The favicon: some browsers apply img-src to it.
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'"
  // No form-action: browsers apply it to the logout redirect to Cognito too.
].join('; ')

export function sendPage (reply: FastifyReply, html: string, statusCode = 200): FastifyReply {
  return reply.code(statusCode)
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .type('text/html; charset=utf-8')
    .send(html)
}

/** The q-value the Accept header gives the first of `types` it names; 0 when it names none. */
function quality (accept: string, types: readonly string[]): number {
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map(part => part.trim().toLowerCase())
    if (!types.includes(type)) continue
    const q = params.find(param => param.startsWith('q='))
    const value = q === undefined ? 1 : Number(q.slice(2))
    return Number.isFinite(value) ? value : 0
  }
  return 0
}

/**
 * A browser (it asks for HTML and likes it at least as much as JSON) gets pages; API clients, fetch() and curl
 * (`*\/*` names no type) get JSON, the same rule the plugin's guards use to choose between a login redirect and 401.
 */
export function wantsHtml (request: FastifyRequest): boolean {
  const accept = request.headers.accept
  if (typeof accept !== 'string') return false
  const html = quality(accept, ['text/html', 'application/xhtml+xml'])
  return html > 0 && html >= quality(accept, ['application/json'])
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Cookies are per host name, so a sign-in started on http://localhost:3000 can never finish when the callback URL
 * is http://127.0.0.1:3000/login/redirect: the login transaction cookie stays behind on the other name. On a
 * loopback base URL, pages opened through another loopback name are sent to the base URL first. Only loopback
 * names: behind a proxy that rewrites the Host header, a redirect on every mismatch would loop.
 */
export function redirectToBaseUrl (baseUrl: string): onRequestHookHandler {
  const base = new URL(baseUrl)
  return function sameAddress (request, reply, done) {
    if (!LOOPBACK.has(base.hostname) || (request.method !== 'GET' && request.method !== 'HEAD')) return done()
    let requested: URL
    try {
      requested = new URL(`http://${request.headers.host ?? ''}`)
    } catch {
      return done()
    }
    if (requested.host === base.host || !LOOPBACK.has(requested.hostname)) return done()
    // request.url is the path and query: the target stays on the base URL's origin whatever the path.
    reply.header('cache-control', 'no-store').redirect(`${base.origin}${request.url}`, 302)
  }
}
