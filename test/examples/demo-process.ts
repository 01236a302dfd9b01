import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { TestContext } from 'node:test'

/** `npm run example` is exactly a build and then this command; tests run after the build, so they start this. */
export const EXAMPLE_SCRIPT = 'npm run build && node --import tsx examples/demo/server.ts'
const COMMAND = ['--import', 'tsx', 'examples/demo/server.ts']

export interface Demo {
  appUrl: string
  idpUrl: string
  child: ChildProcess
  /** Everything the demo printed so far (stdout and stderr). */
  output: () => string
  /** Ctrl-C: SIGINT, then the exit code. */
  interrupt: () => Promise<number | null>
}

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  assert.ok(address !== null && typeof address === 'object')
  return address.port
}

function exited (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => { resolve(code) }))
}

/**
 * Starts the demo as `npm run example` does (from the repository root, after `npm run build`), on free ports, in
 * local mode unless `env` says otherwise (a developer's .env never applies), and waits for its banner. The child
 * is killed when the test ends.
 */
export async function startDemo (t: TestContext, env: Record<string, string> = {}): Promise<Demo> {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts
  assert.equal(scripts.example, EXAMPLE_SCRIPT, 'the test starts the demo the way npm run example does')
  const port = env.PORT === undefined ? await freePort() : Number(env.PORT)
  const idpPort = await freePort()
  const child = spawn(process.execPath, COMMAND, {
    cwd: process.cwd(),
    env: {
      ...process.env,
      PORT: String(port),
      LOCAL_COGNITO_PORT: String(idpPort),
      // Empty values beat a developer's .env: the test always runs the local mode.
      COGNITO_USER_POOL_ID: '',
      APP_BASE_URL: '',
      SESSION_SECRET: '',
      HOST: '',
      REDIS_URL: '',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited(child)
    }
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the demo printed no banner within 30 s:\n${output}`)) }, 30_000)
    const check = (): void => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the demo exited with ${String(code)} before it was ready:\n${output}`))
    })
  })

  return {
    appUrl: `http://127.0.0.1:${port}`,
    idpUrl: `http://127.0.0.1:${idpPort}`,
    child,
    output: () => output,
    interrupt: async () => {
      child.kill('SIGINT')
      return await exited(child)
    }
  }
}
