import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'

/** One request as the server received it, body read in full. */
export interface ReceivedRequest {
  method: string
  /** Path and query. */
  url: string
  headers: IncomingHttpHeaders
  body: string
}

export type RawHandler = (request: ReceivedRequest, response: ServerResponse, raw: IncomingMessage) => void | Promise<void>

export interface RawServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** Every request received so far, in order. */
  readonly requests: ReceivedRequest[]
}

/**
 * A bare node:http server on 127.0.0.1 (a free port) that answers with `handler`: for what a real IdP cannot be
 * asked to do (hang, drip, answer too much, answer garbage). Closed after the test, open connections included, so
 * a handler that never answers does not hold the test's end.
 */
export async function startHttpServer (t: Pick<TestContext, 'after'>, handler: RawHandler): Promise<RawServer> {
  const requests: ReceivedRequest[] = []
  const server = createServer((raw, response) => {
    const chunks: Buffer[] = []
    raw.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    raw.on('end', () => {
      const received = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(received)
      Promise.resolve(handler(received, response, raw)).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)))
      })
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  })
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, requests }
}

/** Answers `status` with `body` as JSON (or as it is, when a string). */
export function sendJson (response: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}

/** The next free-then-closed loopback port: nothing listens there, connections are refused. */
export async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}
