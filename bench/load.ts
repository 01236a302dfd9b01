/**
 * The HTTP part of the benchmark: one server process for every scenario (bench/server.ts, a route per scenario),
 * load from this process with autocannon over loopback, server CPU read over IPC before and after each run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import autocannon from 'autocannon'
import { quantile, type Scenario, type ServerConfig } from './common.js'

export interface RunResult {
  requests: number
  seconds: number
  rps: number
  p50: number
  p99: number
  /** Server CPU (user + system) per completed request, microseconds. */
  cpuPerRequest: number
  /** Server CPU time over wall time of the run, percent: near 100 means the server was the bottleneck. */
  serverBusy: number
  errors: number
  non2xx: number
}

export class BenchServer {
  readonly port: number
  readonly #child: ChildProcess
  #nextId = 0

  private constructor (child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
  }

  /** Starts bench/server.ts with the scenarios' servers, on CPU `core` when given (taskset). */
  static async start (scenarios: Array<{ id: string, server: ServerConfig }>, core: number | undefined): Promise<BenchServer> {
    const node = [process.execPath, '--import', 'tsx', 'bench/server.ts']
    const [command, ...args] = core === undefined ? node : ['taskset', '-c', String(core), ...node]
    const child = spawn(command as string, args, {
      env: { ...process.env, BENCH_SERVER: JSON.stringify(scenarios.map(({ id, server }) => ({ id, server }))) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const ready = new Promise<number>((resolve, reject) => {
      child.on('message', (message: { type: string, port?: number }) => {
        if (message.type === 'ready' && typeof message.port === 'number') resolve(message.port)
      })
      child.once('exit', (code) => { reject(new Error(`the bench server exited with ${String(code)} before it was ready`)) })
    })
    return new BenchServer(child, await ready)
  }

  /** The server's CPU time so far (microseconds) and its RSS (bytes). */
  async usage (): Promise<{ cpu: number, rss: number }> {
    const id = ++this.#nextId
    const answer = new Promise<{ cpu: number, rss: number }>((resolve) => {
      const listener = (message: { type: string, id?: number, cpu: number, rss: number }): void => {
        if (message.type === 'cpu' && message.id === id) {
          this.#child.off('message', listener)
          resolve({ cpu: message.cpu, rss: message.rss })
        }
      }
      this.#child.on('message', listener)
    })
    this.#child.send({ type: 'cpu', id })
    return await answer
  }

  async close (): Promise<void> {
    if (this.#child.exitCode !== null) return
    const exited = once(this.#child, 'exit')
    this.#child.send({ type: 'close' })
    const timer = setTimeout(() => { this.#child.kill('SIGKILL') }, 5000)
    await exited
    clearTimeout(timer)
  }
}

/** Loads `server` with the scenario's requests for `seconds`, 10 connections. */
export async function run (server: BenchServer, scenario: Scenario, seconds: number): Promise<RunResult> {
  const latencies = new Float64Array(4_000_000)
  let count = 0
  const options: autocannon.Options = {
    url: `http://127.0.0.1:${server.port}/${scenario.id}`,
    connections: 10,
    pipelining: 1,
    duration: seconds,
    headers: scenario.headers ?? {}
  }
  const pool = scenario.tokenPool
  if (pool !== undefined) {
    let next = 0
    options.requests = [{
      method: 'GET',
      path: `/${scenario.id}`,
      setupRequest: (request) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${pool[next++ % pool.length] as string}` } })
    }]
  }
  const before = await server.usage()
  const started = performance.now()
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => { if (error === null || error === undefined) resolve(done); else reject(error) })
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (count < latencies.length) latencies[count++] = responseTime
    })
  })
  const wall = (performance.now() - started) / 1000
  const after = await server.usage()
  const requests = result.requests.total
  const cpu = after.cpu - before.cpu
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: quantile(latencies, count, 0.5),
    p99: quantile(latencies, count, 0.99),
    cpuPerRequest: cpu / requests,
    serverBusy: cpu / 1e6 / wall * 100,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx
  }
}
