/**
 * A real redis-server for the session-store part of the benchmark (Debian's package, or BENCH_REDIS_SERVER): on a
 * free loopback port, in a temporary directory, without persistence, and always stopped at the end (`close`, and
 * SIGKILL when this process exits some other way). It inherits this process's CPU placement (the load generator's
 * core); it is idle during the load when the plugin does what it should (no Redis command per repeated request).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import { join } from 'node:path'
import { createClient, type RedisClientType } from 'redis'

/** Redis's own count of every command it executed, by command (`cmdstat_<name>:calls=N` of INFO commandstats). */
export type CommandCalls = Map<string, number>

export interface BenchRedis {
  readonly url: string
  readonly version: string
  /**
   * INFO commandstats through one connection opened at start (so no connection handshake is ever counted). Redis
   * counts a command after it ran: a reading does not include itself, and includes every earlier reading.
   */
  commandCalls: () => Promise<CommandCalls>
  close: () => Promise<void>
}

/** Whether the Redis part is skipped (BENCH_REDIS=0), and the line that says so. */
export function redisSkipped (): string | undefined {
  return process.env.BENCH_REDIS === '0' ? 'session store (Redis) part skipped: BENCH_REDIS=0' : undefined
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

export function parseCommandStats (text: string): CommandCalls {
  const calls: CommandCalls = new Map()
  for (const line of text.split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
    if (match !== null) calls.set(match[1] as string, Number(match[2]))
  }
  return calls
}

/** What ran between two readings, by command, the `probes` INFO readings in between excluded. */
export function commandsBetween (before: CommandCalls, after: CommandCalls, probes: number): CommandCalls {
  const delta: CommandCalls = new Map()
  for (const [name, calls] of after) {
    const count = calls - (before.get(name) ?? 0) - (name === 'info' ? probes : 0)
    if (count !== 0) delta.set(name, count)
  }
  return delta
}

export function totalCalls (calls: CommandCalls): number {
  let total = 0
  for (const count of calls.values()) total += count
  return total
}

async function waitUntilUp (url: string, proc: ChildProcess, output: () => string): Promise<RedisClientType> {
  const deadline = Date.now() + 10_000
  let exited = false
  proc.once('exit', () => { exited = true })
  proc.once('error', () => { exited = true })
  for (;;) {
    if (exited) throw new Error(`redis-server exited at start: ${output()}`)
    const client: RedisClientType = createClient({ url, socket: { reconnectStrategy: false } })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return client
    } catch {
      if (client.isOpen) client.destroy()
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within 10 s: ${output()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Starts redis-server; rejects (with the server stopped) when it cannot. */
export async function startRedis (): Promise<BenchRedis> {
  const binary = process.env.BENCH_REDIS_SERVER ?? 'redis-server'
  const port = await freePort()
  const dir = await mkdtemp(join(os.tmpdir(), 'fastify-cognito-bench-redis-'))
  const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  proc.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  proc.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  // Whatever happens to this process, the server does not outlive it.
  const killOnExit = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  // A signal ends this process without 'exit': stop the server, then die of the same signal as if not caught.
  const onSignal = (signal: NodeJS.Signals): void => {
    killOnExit()
    forget()
    process.kill(process.pid, signal)
  }
  const forget = (): void => {
    process.off('exit', killOnExit)
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal)
  }
  process.once('exit', killOnExit)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal)
  const spawnError = new Promise<never>((_resolve, reject) => {
    proc.once('error', (error: NodeJS.ErrnoException) => {
      reject(new Error(error.code === 'ENOENT'
        ? `${binary} not found: install redis-server (Debian: apt-get install redis-server), point BENCH_REDIS_SERVER at it, or skip this part with BENCH_REDIS=0`
        : `${binary} failed to start: ${error.message}`))
    })
  })
  spawnError.catch(() => {})

  const stop = async (): Promise<void> => {
    forget()
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      const timer = setTimeout(() => { proc.kill('SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }

  const url = `redis://127.0.0.1:${port}`
  let probe: RedisClientType
  try {
    probe = await Promise.race([waitUntilUp(url, proc, () => output), spawnError])
  } catch (error) {
    await stop()
    throw error
  }
  const server = parseInfo(await probe.info('server'))
  return {
    url,
    version: server.get('redis_version') ?? 'unknown',
    commandCalls: async () => parseCommandStats(await probe.info('commandstats')),
    close: async () => {
      if (probe.isOpen) await probe.close()
      await stop()
    }
  }
}

function parseInfo (text: string): Map<string, string> {
  const entries = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) entries.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return entries
}
