import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createClient, type RedisClientType } from 'redis'

/**
 * A real redis-server (Debian's package) for one test: on a free loopback port, in a directory of its own, without
 * persistence unless asked for, stopped after the test. `pause` / `resume` freeze the server with SIGSTOP / SIGCONT
 * (a Redis that stops answering: how timeouts are tested), `stop` / `start` kill and start it again on the same port.
 */
export interface RedisServer {
  readonly port: number
  readonly url: string
  /** A connected node-redis client, closed after the test; it reconnects on its own after a restart. */
  client: () => Promise<RedisClientType>
  pause: () => void
  resume: () => void
  /** Stops the server (SHUTDOWN: with persistence on, it saves first). */
  stop: () => Promise<void>
  start: () => Promise<void>
  /** `INFO <section>` as name -> value. */
  info: (section: string) => Promise<Map<string, string>>
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

export async function startRedis (t: TestContext, options: { persistence?: boolean, args?: string[] } = {}): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'fastify-cognito-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--protected-mode', 'yes', '--loglevel', 'warning']
  if (options.persistence === true) args.push('--appendonly', 'yes', '--appendfsync', 'always')
  else args.push('--appendonly', 'no')
  args.push(...(options.args ?? []))
  let child: ChildProcess | undefined
  const clients: RedisClientType[] = []

  const start = async (): Promise<void> => {
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => { reject(new Error(`redis-server did not start on port ${port}: ${output}`)) }, 10_000)
      const poll = setInterval(() => {
        const probe = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } })
        probe.on('error', () => {})
        probe.connect().then(async () => {
          await probe.ping()
          await probe.close()
          clearInterval(poll)
          clearTimeout(timer)
          resolve()
        }, () => {})
      }, 50)
      started.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
      started.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
      started.once('exit', (code) => {
        clearInterval(poll)
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${String(code)}: ${output}`))
      })
    })
  }

  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined || running.exitCode !== null) return
    child = undefined
    running.kill('SIGCONT')
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    await exited
  }

  await start()
  t.after(async () => {
    for (const client of clients) {
      if (client.isOpen) client.destroy()
    }
    await stop()
    await rm(dir, { recursive: true, force: true })
  })

  const url = `redis://127.0.0.1:${port}`
  return {
    port,
    url,
    client: async () => {
      const client: RedisClientType = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) } })
      // The app's own listener, as a real app has: without one an error event would end the process.
      client.on('error', () => {})
      clients.push(client)
      await client.connect()
      return client
    },
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
    stop,
    start,
    info: async (section) => {
      const probe = createClient({ url, socket: { reconnectStrategy: false } })
      probe.on('error', () => {})
      await probe.connect()
      try {
        const text = await probe.info(section)
        const entries = new Map<string, string>()
        for (const line of text.split('\r\n')) {
          const colon = line.indexOf(':')
          if (colon > 0 && !line.startsWith('#')) entries.set(line.slice(0, colon), line.slice(colon + 1))
        }
        return entries
      } finally {
        await probe.close()
      }
    }
  }
}
