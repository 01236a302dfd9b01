import type { FastifyReply, FastifyRequest } from 'fastify'

/**
 * Query or form parameters. A repeated parameter keeps its first value and is reported, because OAuth requires
 * rejecting repeats and silently picking one would hide client bugs.
 */
export class Params {
  readonly #values = new Map<string, string>()
  readonly #repeated = new Set<string>()

  constructor (raw: string) {
    for (const [name, value] of new URLSearchParams(raw)) {
      if (this.#values.has(name)) this.#repeated.add(name)
      else this.#values.set(name, value)
    }
  }

  /** An empty value counts as absent, as OAuth 2.0 section 3.1 asks. */
  get (name: string): string | undefined {
    const value = this.#values.get(name)
    return value === '' ? undefined : value
  }

  isRepeated (...names: string[]): boolean {
    return names.length === 0 ? this.#repeated.size > 0 : names.some(name => this.#repeated.has(name))
  }

  toRecord (): Record<string, string> {
    return Object.fromEntries(this.#values)
  }

  toString (): string {
    return new URLSearchParams([...this.#values]).toString()
  }
}

export function queryParams (request: FastifyRequest): Params {
  const start = request.url.indexOf('?')
  return new Params(start === -1 ? '' : request.url.slice(start + 1))
}

/** Undefined unless the body is application/x-www-form-urlencoded; the caller answers with its own error. */
export function formParams (request: FastifyRequest): Params | undefined {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') return undefined
  return new Params(typeof request.body === 'string' ? request.body : '')
}

/** Appends to a registered URL as-is: re-serialising it through URL would normalise what the client registered. */
export function withParams (base: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) search.append(name, value)
  }
  return `${base}${base.includes('?') ? '&' : '?'}${search.toString()}`
}

export function oauthError (reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).type('application/json;charset=UTF-8').send({ error })
}

/** Only the path: query strings carry codes, state and nonces, and logs must not collect them. */
export function pathOnly (url: string): string {
  const start = url.indexOf('?')
  return start === -1 ? url : url.slice(0, start)
}
