import { Agent, request, type Dispatcher } from 'undici'
import { CognitoIdpBadResponseError, CognitoIdpTimeoutError, CognitoIdpUnavailableError } from '../errors.js'

/** Cognito's answers are a few KB; anything far larger is a fault (or an attack) and is cut off. */
const MAX_RESPONSE_BYTES = 256 * 1024

export interface HttpResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface HttpRequest {
  method: 'GET' | 'POST'
  url: string
  /** Names the endpoint in error messages ("token endpoint"): never the URL's query, never a body. */
  endpointName: string
  headers?: Record<string, string>
  body?: string
}

/**
 * The one place that talks HTTP to Cognito: undici with a per-call deadline (`timeout` ms for connect, headers
 * and body together) and a response size limit. Errors come out typed: timeout 504, unreachable 503,
 * oversized 502. Messages name the endpoint only, never what was sent.
 */
export class CognitoHttpClient {
  readonly #dispatcher: Dispatcher
  readonly #ownsDispatcher: boolean
  readonly #timeout: number

  constructor (timeout: number, dispatcher?: Dispatcher) {
    this.#timeout = timeout
    this.#ownsDispatcher = dispatcher === undefined
    this.#dispatcher = dispatcher ?? new Agent({
      connect: { timeout },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000
    })
  }

  async send (req: HttpRequest): Promise<HttpResponse> {
    const signal = AbortSignal.timeout(this.#timeout)
    try {
      const response = await request(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher: this.#dispatcher,
        signal
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > MAX_RESPONSE_BYTES) {
          response.body.destroy()
          throw new CognitoIdpBadResponseError(`Cognito ${req.endpointName} answered with more than ${MAX_RESPONSE_BYTES} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      return { statusCode: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }
    } catch (error) {
      throw this.#translate(error, req.endpointName, signal)
    }
  }

  async close (): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close()
  }

  #translate (error: unknown, endpointName: string, signal: AbortSignal): Error {
    if (error instanceof CognitoIdpBadResponseError) return error
    const code = (error as { code?: unknown } | null)?.code
    if (signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new CognitoIdpTimeoutError(`Cognito ${endpointName} did not answer within ${this.#timeout} ms`, { cause: error })
    }
    return new CognitoIdpUnavailableError(`Cognito ${endpointName} could not be reached`, { cause: error })
  }
}

/** Parses a JSON object body; anything else is the IdP's fault (502). */
export function parseJsonObject (response: HttpResponse, endpointName: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(response.body)
  } catch {
    // No `cause`: V8's JSON error quotes the body, and a body must never reach a log line.
    throw new CognitoIdpBadResponseError(`Cognito ${endpointName} answered ${response.statusCode} with a body that is not JSON`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CognitoIdpBadResponseError(`Cognito ${endpointName} answered ${response.statusCode} with JSON that is not an object`)
  }
  return parsed as Record<string, unknown>
}
