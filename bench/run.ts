/**
 * `npm run bench`: every scenario side by side in one run, on loopback, in a few minutes.
 *
 * - HTTP: one server process (bench/server.ts, a route per scenario) pinned to CPU 0, autocannon in this process pinned
 *   to CPU 1, 10 connections. Scenarios run in rounds, each guarded run between two runs of the unguarded route,
 *   and its ratio is taken against the mean of those two: machine noise (other tenants, frequency) cancels out.
 *   The figures reported are medians over the rounds.
 * - Single-thread verification of one token, no cache, against the node:crypto RSA floor (bench/verify.ts).
 * - The login callback's own CPU (bench/callback.ts), and cache memory with 100,000 tokens (bench/memory.ts).
 * - The server-side session store (Redis, bench/redis.ts): a guarded route on a store session among the scenarios
 *   above, Redis's own command count around its runs, and sign-out across three instances (bench/fleet.ts).
 *
 * Prints the tables and writes bench/results.md. Settings: BENCH_ROUNDS (6), BENCH_SECONDS (1.5 per run),
 * BENCH_PIN=0 to leave CPU placement to the OS, BENCH_REDIS=0 to skip the session-store part (it needs redis-server;
 * BENCH_REDIS_SERVER names another binary), BENCH_SIGNOUTS (100), BENCH_ONLY=store to run only the session-store
 * part (with the unguarded baseline) and print it, without writing bench/results.md.
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CALLBACK_BLOCK, CALLBACK_WARMUP, measureCallback, type CallbackResult } from './callback.js'
import { COGNITO_ISSUER, format, median, type Scenario, type ServerConfig } from './common.js'
import { createFixtures, type Fixtures } from './fixtures.js'
import type { FleetInput, FleetResult } from './fleet.js'
import { BenchServer, run, type RunResult } from './load.js'
import type { MemoryResult } from './memory.js'
import { commandsBetween, redisSkipped, startRedis, totalCalls, type BenchRedis, type CommandCalls } from './redis.js'
import type { VerifyResult } from './verify.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5)
const WARMUP_SECONDS = 1
/** Pool of distinct tokens for the "always-new" scenario: twice the cache of that server, so every request misses. */
const POOL_SIZE = 4000
const NEW_TOKENS_CACHE_SIZE = 2000
/** Sign-outs across the fleet of three instances on one Redis. */
const SIGN_OUTS = Number(process.env.BENCH_SIGNOUTS ?? 100)
/** BENCH_ONLY=store: the session-store part alone (and the unguarded baseline its ratios need). */
const ONLY = process.env.BENCH_ONLY
if (ONLY !== undefined && ONLY !== 'store') throw new Error(`BENCH_ONLY=${ONLY}: the only part that runs alone is "store"`)
const STORE_SCENARIOS = new Set(['unguarded', 'open-store-session', 'store-session'])

function canPin (): boolean {
  if (process.env.BENCH_PIN === '0' || os.cpus().length < 2) return false
  try {
    execFileSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function scenarios (fx: Fixtures, redisUrl: string | undefined): Scenario[] {
  const all = allScenarios(fx, redisUrl)
  return ONLY === 'store' ? all.filter((scenario) => STORE_SCENARIOS.has(scenario.id)) : all
}

function allScenarios (fx: Fixtures, redisUrl: string | undefined): Scenario[] {
  const base = { jwks: fx.jwks, issuer: COGNITO_ISSUER, accessKid: fx.accessKid }
  const plugin = { domain: fx.idp.domain, issuer: COGNITO_ISSUER, jwksUri: fx.idp.jwksUri }
  const bearer = { authorization: `Bearer ${fx.bearerToken}` }
  return [
    { id: 'unguarded', label: 'unguarded route (baseline: bare Fastify, no credentials)', server: { ...base, kind: 'unguarded' } },
    {
      id: 'open-bearer',
      label: 'fastify-cognito registered, route without guard, same Bearer header',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, guard: false } },
      headers: bearer
    },
    {
      id: 'open-session',
      label: 'fastify-cognito registered, route without guard, same session cookie',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, issuer: fx.idp.issuer, guard: false } },
      headers: { cookie: fx.sessionCookie }
    },
    {
      id: 'open-session-small',
      label: 'fastify-cognito registered, route without guard, same small session cookie',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, issuer: fx.idp.issuer, guard: false } },
      headers: { cookie: fx.smallSessionCookie }
    },
    {
      id: 'open-bearer-only',
      label: 'fastify-cognito bearer-only registration, route without guard, same Bearer header',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, guard: false, bearerOnly: true } },
      headers: bearer
    },
    {
      id: 'bearer-only',
      label: 'fastify-cognito bearer-only registration, Bearer, same token',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, bearerOnly: true } },
      headers: bearer,
      openRoute: 'open-bearer-only'
    },
    {
      id: 'open-machine',
      label: 'fastify-cognito bearer-only registration, route without guard, same machine token',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, guard: false, bearerOnly: true } },
      headers: { authorization: `Bearer ${fx.machineToken}` }
    },
    {
      id: 'machine',
      label: 'fastify-cognito bearer-only, client-credentials token, scopes guard',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, bearerOnly: true, scopes: ['orders/read'] } },
      headers: { authorization: `Bearer ${fx.machineToken}` },
      openRoute: 'open-machine'
    },
    {
      id: 'bearer',
      label: 'fastify-cognito, Bearer, same token',
      server: { ...base, kind: 'plugin', plugin },
      headers: bearer,
      openRoute: 'open-bearer'
    },
    {
      id: 'session',
      label: 'fastify-cognito, session cookie (40 groups)',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, issuer: fx.idp.issuer } },
      headers: { cookie: fx.sessionCookie },
      openRoute: 'open-session'
    },
    {
      id: 'session-small',
      label: 'fastify-cognito, session cookie (2 groups)',
      server: { ...base, kind: 'plugin', plugin: { ...plugin, issuer: fx.idp.issuer } },
      headers: { cookie: fx.smallSessionCookie },
      openRoute: 'open-session-small'
    },
    ...storeScenarios(fx, redisUrl, base, plugin),
    {
      id: 'bearer-new',
      label: `fastify-cognito, Bearer, always-new tokens (${POOL_SIZE} in turn, cache ${NEW_TOKENS_CACHE_SIZE})`,
      server: { ...base, kind: 'plugin', plugin: { ...plugin, tokenCacheSize: NEW_TOKENS_CACHE_SIZE } },
      tokenPool: fx.tokenPool,
      openRoute: 'open-bearer'
    },
    { id: 'jose', label: 'jose jwtVerify + local JWKS', server: { ...base, kind: 'jose' }, headers: bearer, peer: true },
    { id: 'aws-jwt-verify', label: 'aws-jwt-verify (hydrated JWKS)', server: { ...base, kind: 'aws-jwt-verify' }, headers: bearer, peer: true },
    { id: 'fastify-jwt', label: '@fastify/jwt', server: { ...base, kind: 'fastify-jwt' }, headers: bearer, peer: true },
    { id: 'fast-jwt', label: 'fast-jwt with its result cache', server: { ...base, kind: 'fast-jwt' }, headers: bearer, peer: true },
    {
      id: 'secure-session',
      label: '@fastify/secure-session read alone (no token check)',
      server: { ...base, kind: 'secure-session', secureSessionKey: fx.secureSessionKey },
      headers: { cookie: fx.secureSessionCookie },
      peer: true
    }
  ]
}

/**
 * The session-store pair: the same guarded route as the cookie sessions, its app on a Redis store, the request
 * carrying the `cognito_sid` ticket of a real sign-in (carol, 40 groups, as the "session" scenario); and the same
 * app's route without the guard receiving the very same Cookie header.
 */
function storeScenarios (fx: Fixtures, redisUrl: string | undefined, base: Pick<ServerConfig, 'jwks' | 'issuer' | 'accessKid'>, plugin: NonNullable<ServerConfig['plugin']>): Scenario[] {
  const cookie = fx.storeSessionCookie
  if (redisUrl === undefined || cookie === undefined) return []
  const store = { ...plugin, issuer: fx.idp.issuer, redisUrl }
  return [
    {
      id: 'open-store-session',
      label: 'fastify-cognito on a Redis session store, route without guard, same store cookie',
      server: { ...base, kind: 'plugin', plugin: { ...store, guard: false } },
      headers: { cookie }
    },
    {
      id: 'store-session',
      label: 'fastify-cognito, Redis session store, `cognito_sid` cookie (40 groups)',
      server: { ...base, kind: 'plugin', plugin: store },
      headers: { cookie },
      openRoute: 'open-store-session',
      redisCommands: true
    }
  ]
}

export interface ScenarioResult {
  scenario: Scenario
  runs: RunResult[]
  /** Per round: this run's req/s over the mean of the unguarded runs just before and after it. */
  ratios: number[]
  /** Per round: the unguarded route's CPU per request over this one's. */
  cpuRatios: number[]
}

interface LoadResults {
  results: ScenarioResult[]
  pinned: boolean
  jwksFetchesAtStart: number
  jwksFetchesAfterLoad: number
  pluginServers: number
  firstRequestMs: number
  /** Redis's commands during the measured runs of the store-session scenario (not its warm-up). */
  redisCommands?: RedisCommandCount
}

interface RedisCommandCount {
  runs: number
  /** Requests autocannon completed in those runs. */
  requests: number
  /** Commands Redis ran meanwhile, by command, the INFO readings themselves excluded. */
  calls: CommandCalls
  /** INFO readings subtracted (one per run: the reading before it). */
  probes: number
}

async function load (fx: Fixtures, pinned: boolean, redis: BenchRedis | undefined): Promise<LoadResults> {
  const list = scenarios(fx, redis?.url)
  const jwksBefore = fx.idp.requests.jwks
  process.stdout.write(`starting the server (${list.length} scenarios)...`)
  const server = await BenchServer.start(list, pinned ? 0 : undefined)
  try {
    return await measure(fx, list, server, jwksBefore, pinned, redis)
  } finally {
    await server.close()
  }
}

async function measure (fx: Fixtures, list: Scenario[], server: BenchServer, jwksBefore: number, pinned: boolean, redis: BenchRedis | undefined): Promise<LoadResults> {
  const pluginServers = list.filter((scenario) => scenario.server.kind === 'plugin').length
  const jwksFetchesAtStart = fx.idp.requests.jwks - jwksBefore
  console.log(' ready')
  // onReady prefetched the JWKS: the very first guarded request pays only for its own verification.
  let firstRequestMs = NaN
  if (list.some((scenario) => scenario.id === 'bearer')) {
    const firstStarted = performance.now()
    const first = await fetch(`http://127.0.0.1:${server.port}/bearer`, { headers: { authorization: `Bearer ${fx.bearerToken}` } })
    firstRequestMs = performance.now() - firstStarted
    if (first.status !== 200) throw new Error(`the first guarded request answered ${first.status}`)
  }
  const counted = list.some((scenario) => scenario.redisCommands === true) && redis !== undefined
  const redisCommands: RedisCommandCount = { runs: 0, requests: 0, calls: new Map(), probes: 0 }

  for (const scenario of list) {
    const warm = await run(server, scenario, WARMUP_SECONDS)
    if (warm.non2xx > 0 || warm.errors > 0 || warm.requests === 0) {
      throw new Error(`${scenario.id}: ${warm.non2xx} non-2xx answers and ${warm.errors} errors in the warm-up`)
    }
  }

  const results: ScenarioResult[] = list.map((scenario) => ({ scenario, runs: [], ratios: [], cpuRatios: [] }))
  const baseline = results[0] as ScenarioResult
  for (let round = 0; round < ROUNDS; round++) {
    let before = await run(server, baseline.scenario, SECONDS)
    baseline.runs.push(before)
    for (let index = 1; index < list.length; index++) {
      const result = results[index] as ScenarioResult
      const probe = counted && result.scenario.redisCommands === true ? redis : undefined
      const callsBefore = await probe?.commandCalls()
      const measured = await run(server, result.scenario, SECONDS)
      if (probe !== undefined && callsBefore !== undefined) {
        // The reading before the run is counted in the reading after it: one probe to subtract.
        for (const [name, count] of commandsBetween(callsBefore, await probe.commandCalls(), 1)) {
          redisCommands.calls.set(name, (redisCommands.calls.get(name) ?? 0) + count)
        }
        redisCommands.runs++
        redisCommands.probes++
        redisCommands.requests += measured.requests
      }
      const after = await run(server, baseline.scenario, SECONDS)
      baseline.runs.push(after)
      if (measured.non2xx > 0 || measured.errors > 0) throw new Error(`${result.scenario.id}: ${measured.non2xx} non-2xx answers, ${measured.errors} errors`)
      result.runs.push(measured)
      result.ratios.push(measured.rps / ((before.rps + after.rps) / 2))
      result.cpuRatios.push(((before.cpuPerRequest + after.cpuPerRequest) / 2) / measured.cpuPerRequest)
      process.stdout.write(`round ${round + 1}/${ROUNDS} ${result.scenario.id}: ${format(measured.rps)} req/s, ratio ${format(result.ratios.at(-1) as number, 2)}\n`)
      before = after
    }
  }
  const jwksFetchesAfterLoad = fx.idp.requests.jwks - jwksBefore
  return { results, pinned, jwksFetchesAtStart, jwksFetchesAfterLoad, pluginServers, firstRequestMs, ...(counted ? { redisCommands } : {}) }
}

/**
 * Runs a bench script in its own process (pinned to CPU 1 like this one, the affinity is inherited) with `input`
 * as JSON in a temporary file named by BENCH_INPUT, and returns the JSON line it prints last.
 */
async function child<T> (script: string, input: unknown, { nodeFlags = [], core }: { nodeFlags?: string[], core?: number | undefined } = {}): Promise<T> {
  const directory = await mkdtemp(join(os.tmpdir(), 'fastify-cognito-bench-'))
  const file = join(directory, 'input.json')
  await writeFile(file, JSON.stringify(input))
  const node = [process.execPath, ...nodeFlags, '--import', 'tsx', script]
  const [command, ...args] = core === undefined ? node : ['taskset', '-c', String(core), ...node]
  const proc = spawn(command as string, args, {
    env: { ...process.env, BENCH_INPUT: file, BENCH_PARENT: String(process.pid) },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let output = ''
  proc.stdout.setEncoding('utf8')
  proc.stdout.on('data', (chunk: string) => { output += chunk })
  const [code] = await once(proc, 'exit') as [number | null]
  await rm(directory, { recursive: true, force: true })
  if (code !== 0) throw new Error(`${script} exited with ${String(code)}`)
  return JSON.parse(output.trim().split('\n').at(-1) as string) as T
}

function pass (ok: boolean): string {
  return ok ? 'met' : '**missed**'
}

/** Per round, a scenario's ratio over the ratio of its app's open route (same app, same request, no guard). */
function guardAlone (result: ScenarioResult, byId: Map<string, ScenarioResult>): number {
  const open = result.scenario.openRoute === undefined ? undefined : byId.get(result.scenario.openRoute)
  if (open === undefined) return NaN
  return median(result.ratios.map((value, round) => value / (open.ratios[round] as number)))
}

interface StoreResults {
  redisVersion: string
  fleet: FleetResult
}

/** The value at quantile `q` (0..1) of `values`, nearest rank. */
function rank (values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number
}

function commandsPerRequest (count: RedisCommandCount | undefined): number {
  return count === undefined || count.requests === 0 ? NaN : totalCalls(count.calls) / count.requests
}

function breakdown (calls: CommandCalls): string {
  return calls.size === 0 ? 'none' : [...calls].sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ${format(count)}`).join(', ')
}

/**
 * The session store's rows of the targets tables: the ratio to the same route unguarded (first table), and the
 * ratio to the bare route, the Redis commands per repeated request and the sign-out propagation (second table).
 * `store` is the reason when the part did not run.
 */
function storeTargets (load: LoadResults, store: StoreResults | string, byId: Map<string, ScenarioResult>): { sameRequest: string, others: string[] } {
  // What the store replaces: the cookie session of the same user, measured in the same run (not with BENCH_ONLY).
  const cookieSession = median(byId.get('session')?.ratios ?? [])
  const bareTarget = 'Store session (Redis), guarded / bare route without credentials: >= 0.85' +
    (Number.isFinite(cookieSession) ? ` (the 4 KB cookie session of the same user: ${format(cookieSession, 2)})` : '')
  const commandsTarget = 'Redis commands per repeated guarded request (store session): 0'
  const fleetTarget = 'Sign-out on one of 3 instances: the other two refuse the old session cookie and its access token (Bearer) within < 100 ms (max)'
  const guarded = byId.get('store-session')
  if (typeof store === 'string' || guarded === undefined) {
    const why = typeof store === 'string' ? store : 'no store-session scenario'
    return {
      sameRequest: `| Store session (Redis, \`cognito_sid\` cookie): >= 0.90 | n/a | not run (${why}) | n/a |`,
      others: [bareTarget, commandsTarget, fleetTarget].map((target) => `| ${target} | n/a | not run (${why}) |`)
    }
  }
  const alone = guardAlone(guarded, byId)
  const bare = median(guarded.ratios)
  const count = load.redisCommands
  const perRequest = commandsPerRequest(count)
  const { fleet } = store
  const everywhere = fleet.refusedEverywhere
  return {
    sameRequest: `| Store session (Redis, \`cognito_sid\` cookie): >= 0.90 | ${format(alone, 2)} | ${pass(alone >= 0.9)} | ${format(bare, 2)} |`,
    others: [
      `| ${bareTarget} | ${format(bare, 2)} | ${pass(bare >= 0.85)} |`,
      `| ${commandsTarget} | ${format(perRequest, 4)} (${format(count === undefined ? NaN : totalCalls(count.calls))} commands for ` +
        `${format(count?.requests ?? NaN)} requests) | ${pass(perRequest === 0)} |`,
      `| ${fleetTarget} | median ${format(median(everywhere), 1)} ms, max ${format(rank(everywhere, 1), 1)} ms over ${everywhere.length} sign-outs` +
        `${fleet.timeouts > 0 ? `, ${fleet.timeouts} not refused within ${fleet.timeoutMs} ms` : ''} | ` +
        `${pass(everywhere.length > 0 && rank(everywhere, 1) < 100 && fleet.timeouts === 0 && fleet.anomalies.length === 0)} |`
    ]
  }
}

function storeSection (load: LoadResults, store: StoreResults | string, fx: Fixtures): string[] {
  const lines: string[] = ['## Server-side session store (Redis)', '']
  if (typeof store === 'string') {
    lines.push(`Not run: ${store}.`, '')
    return lines
  }
  const count = load.redisCommands
  const { fleet } = store
  lines.push(`- Redis ${store.redisVersion} on loopback (redis-server without persistence, on the load generator's core), ` +
    'a node-redis v5 client per app; `sessionStore: redisStore({ client })`. The browser of a signed-in user (carol, 40 groups, ' +
    `the same login as the cookie session) carries one \`cognito_sid\` cookie of ${fx.storeSessionCookie?.length ?? NaN} bytes instead of ` +
    `${fx.sessionCookie.length} bytes in ${fx.sessionCookie.split('; ').length} chunks (over https, where cookies are Secure by default, ` +
    `its name is \`__Host-cognito_sid\`: ${(fx.storeSessionCookie?.length ?? NaN) + '__Host-'.length} bytes).`)
  if (count !== undefined) {
    lines.push(`- Redis commands during the ${count.runs} measured runs of the guarded store-session route: ` +
      `${format(totalCalls(count.calls))} for ${format(count.requests)} requests, ${format(commandsPerRequest(count), 4)} per request ` +
      `(by command: ${breakdown(count.calls)}). Counted by Redis itself, INFO commandstats (the sum of \`calls=\` over every ` +
      `\`cmdstat_\` line) read before and after each run on a connection opened beforehand, the ${count.probes} INFO readings ` +
      'themselves subtracted. The warm-up before is not counted: there the first request reads the session from Redis once.')
  }
  lines.push('', `### Sign-out across ${fleet.instances} instances on one Redis`, '')
  lines.push('| from the start of POST /logout on C, until ... | median ms | p90 ms | max ms |')
  lines.push('|---|---:|---:|---:|')
  const row = (label: string, all: number[]): void => {
    // NaN: never seen (a message the observer missed).
    const values = all.filter((value) => !Number.isNaN(value))
    const missing = all.length - values.length
    lines.push(`| ${label}${missing > 0 ? ` (${missing} of ${all.length} not seen)` : ''} | ${format(median(values), 1)} | ` +
      `${format(rank(values, 0.9), 1)} | ${format(rank(values, 1), 1)} |`)
  }
  row('A and B both refuse the old session cookie', fleet.cookieRefused)
  row('A and B both refuse the old access token as a Bearer token', fleet.bearerRefused)
  row('**A and B refuse both** (target: max < 100 ms)', fleet.refusedEverywhere)
  row('C has answered the POST /logout (refresh-token revocation at the IdP included)', fleet.logoutAnswered)
  row('for information: C\'s "session ended" message reached a 4th subscriber in the same process', fleet.endMessage)
  row('for information: C\'s "token revoked" message reached it', fleet.revokeMessage)
  lines.push('', `${fleet.signOuts} sign-outs, each of a fresh session: a real sign-in on A (\`loginAs\`: /login, the local ` +
    'Cognito\'s form, the callback), A and B made to accept the session cookie and its access token as a Bearer token ' +
    '(twice each: both then sit in their memory caches and Redis is no longer asked), then POST /logout on C, and from the ' +
    'moment it starts, A and B are asked every ~1 ms (app.inject, one process) with the old cookie and the old token until ' +
    `all four answers are 401 (median ${format(fleet.pollsMedian)} polls per sign-out). Afterwards each of A, B and C is asked ` +
    'once more: all must refuse both.' +
    (fleet.timeouts > 0 ? ` ${fleet.timeouts} sign-outs were not refused everywhere within ${fleet.timeoutMs} ms (counted as ${fleet.timeoutMs} ms).` : ''))
  if (fleet.anomalies.length > 0) lines.push('', '**Unexpected answers:**', '', ...fleet.anomalies.map((anomaly) => `- ${anomaly}`))
  lines.push('')
  return lines
}

/** BENCH_ONLY=store: the session-store part alone, printed. */
function storeReport (load: LoadResults, store: StoreResults | string, fx: Fixtures, seconds: number): string {
  const byId = new Map(load.results.map((result) => [result.scenario.id, result]))
  const rows = storeTargets(load, store, byId)
  const lines: string[] = ['# fastify-cognito benchmark: the session store alone (BENCH_ONLY=store)', '']
  lines.push(`- ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; ${ROUNDS} rounds of ${SECONDS} s; ` +
    (load.pinned ? 'server on CPU 0, load generator on CPU 1' : 'no CPU pinning') + `; ${Math.round(seconds)} s.`, '')
  lines.push('| target | guarded / unguarded, same request | status | for information: guarded / bare route without credentials |')
  lines.push('|---|---:|---|---:|')
  lines.push(rows.sameRequest, '', '| target | measured | status |', '|---|---|---|', ...rows.others, '')
  lines.push(...loadTables(load, byId))
  lines.push(...storeSection(load, store, fx))
  return lines.join('\n')
}

/** The HTTP tables: every scenario against the bare route, then each guard against its own open route. */
function loadTables (load: LoadResults, byId: Map<string, ScenarioResult>): string[] {
  const lines: string[] = []
  lines.push('## Protected GET returning small JSON', '')
  lines.push('| scenario | req/s | ratio to the bare unguarded route | p50 ms | p99 ms | server CPU us/req | CPU ratio | server busy |')
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const result of load.results) {
    const rps = median(result.runs.map((r) => r.rps))
    const ratio = result.ratios.length === 0 ? 1 : median(result.ratios)
    const cpuRatio = result.cpuRatios.length === 0 ? 1 : median(result.cpuRatios)
    lines.push(`| ${result.scenario.label}${result.scenario.peer === true ? ' (peer)' : ''} | ${format(rps)} | ${format(ratio, 2)} | ` +
      `${format(median(result.runs.map((r) => r.p50)), 2)} | ${format(median(result.runs.map((r) => r.p99)), 2)} | ` +
      `${format(median(result.runs.map((r) => r.cpuPerRequest)), 1)} | ${format(cpuRatio, 2)} | ${format(median(result.runs.map((r) => r.serverBusy)))}% |`)
  }
  lines.push('', 'CPU ratio: the bare route\'s server CPU per request over this scenario\'s (1.00 = no cost at all). ' +
    'Server busy: server CPU time over wall time; near 100% means the server, not the load generator, was the limit.', '')

  lines.push('### The guard alone', '')
  lines.push('The same app and the same request, with and without `preHandler: app.cognito.requireAuth()`: the ratio of the two, ' +
    'per round, median over the rounds. The difference between this and the table above is what the request itself ' +
    '(its token or its cookies on the wire) costs any route, guarded or not.', '')
  lines.push('| scenario | ratio to the same route without the guard |')
  lines.push('|---|---:|')
  for (const result of load.results) {
    if (result.scenario.openRoute === undefined) continue
    lines.push(`| ${result.scenario.label} | ${format(guardAlone(result, byId), 2)} |`)
  }
  lines.push('')
  return lines
}

function report (load: LoadResults, verify: VerifyResult, callback: CallbackResult, memory: MemoryResult, fx: Fixtures, store: StoreResults | string, seconds: number): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
  const byId = new Map(load.results.map((result) => [result.scenario.id, result]))
  const ratioOf = (id: string): number => median(byId.get(id)?.ratios ?? [])
  const verifyOf = (id: string): number => verify.results.find((r) => r.id === id)?.ratio ?? NaN
  const floor = verify.results.find((r) => r.id === 'floor')?.microseconds ?? NaN
  const peers = verify.results.filter((r) => !r.id.startsWith('fastify-cognito') && r.id !== 'floor')
  const bearer = byId.get('bearer') as ScenarioResult
  const session = byId.get('session') as ScenarioResult
  const bearerAlone = guardAlone(bearer, byId)
  const sessionAlone = guardAlone(session, byId)
  const smallSessionAlone = guardAlone(byId.get('session-small') as ScenarioResult, byId)
  const bearerOnlyAlone = guardAlone(byId.get('bearer-only') as ScenarioResult, byId)
  const machineAlone = guardAlone(byId.get('machine') as ScenarioResult, byId)
  const guardPath = verifyOf('fastify-cognito-sync')
  const asyncApi = verifyOf('fastify-cognito')

  const lines: string[] = []
  lines.push('# fastify-cognito benchmark results', '')
  lines.push(`- Machine: ${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, ${Math.round(os.totalmem() / 2 ** 30)} GB`)
  lines.push(`- Node ${process.version}, ${new Date().toISOString()}`)
  lines.push(`- autocannon, 10 connections, loopback; ${ROUNDS} rounds of ${SECONDS} s per scenario after a ${WARMUP_SECONDS} s warm-up; ` +
    (load.pinned ? 'server on CPU 0, load generator on CPU 1 (taskset)' : 'no CPU pinning') + '; one server process, a route per scenario.')
  lines.push('- Each ratio is a run\'s req/s over the mean of the unguarded runs just before and after it, median over the rounds.')
  lines.push(`- Tokens: Cognito-shaped RS256 (RSA-2048) access tokens of ${fx.bearerToken.length} bytes; the session cookie ` +
    `(a real login of a user with 40 groups, 1.8 KB refresh token) is ${fx.sessionCookie.length} bytes in ` +
    `${fx.sessionCookie.split('; ').length} chunks; a user with 2 groups carries ${fx.smallSessionCookie.length} bytes in ` +
    `${fx.smallSessionCookie.split('; ').length}` +
    (fx.storeSessionCookie === undefined ? '.' : `; a session of the same user on a Redis store carries one \`cognito_sid\` cookie of ${fx.storeSessionCookie.length} bytes.`))
  lines.push(`- Whole run: ${Math.round(seconds)} s.`, '')

  lines.push('## Targets', '')
  lines.push('"Unguarded" is the same route of the same app receiving the same request (its Bearer token or its session ' +
    'cookie), without `requireAuth()`: the issue\'s "same route unguarded". The plugin adds no hook to the app\'s routes, ' +
    'so that route is a bare Fastify route receiving those headers. For information, the last column compares with a ' +
    'bare route that receives no credentials at all, which also charges the guard with receiving the token or cookie ' +
    'bytes, a cost every route of the site pays whether it is guarded or not.', '')
  lines.push('| target | guarded / unguarded, same request | status | for information: guarded / bare route without credentials |')
  lines.push('|---|---:|---|---:|')
  lines.push(`| Bearer, repeated token: >= 0.90 | ${format(bearerAlone, 2)} | ${pass(bearerAlone >= 0.9)} | ${format(ratioOf('bearer'), 2)} |`)
  lines.push(`| Bearer-only registration (an API), repeated token: >= 0.90 | ${format(bearerOnlyAlone, 2)} | ${pass(bearerOnlyAlone >= 0.9)} | ${format(ratioOf('bearer-only'), 2)} |`)
  lines.push(`| Client-credentials (machine) token, scopes guard: >= 0.90 | ${format(machineAlone, 2)} | ${pass(machineAlone >= 0.9)} | ${format(ratioOf('machine'), 2)} |`)
  lines.push(`| Session cookie (40 groups, ${fx.sessionCookie.length} bytes): >= 0.85 | ${format(sessionAlone, 2)} | ${pass(sessionAlone >= 0.85)} | ` +
    `${format(ratioOf('session'), 2)} |`)
  lines.push(`| Session cookie (2 groups, ${fx.smallSessionCookie.length} bytes): >= 0.85 | ${format(smallSessionAlone, 2)} | ${pass(smallSessionAlone >= 0.85)} | ` +
    `${format(ratioOf('session-small'), 2)} |`)
  const storeRows = storeTargets(load, store, byId)
  lines.push(storeRows.sameRequest)
  lines.push('', '| target | measured | status |')
  lines.push('|---|---|---|')
  lines.push(`| First sight: <= 1.5 x the node:crypto RSA floor, faster than every peer | ${format(guardPath, 2)} on the guard's ` +
    `path (${format(asyncApi, 2)} through the async verifyAccessToken()); peers ${peers.map((peer) => format(peer.ratio, 2)).join(', ')} | ` +
    `${pass(guardPath <= 1.5 && peers.every((peer) => peer.ratio > guardPath))} |`)
  lines.push(`| Memory: 100,000 distinct tokens grow RSS by < 30 MB | +${format(memory.rssGrowthMb, 1)} MB once settled ` +
    `(+${format(memory.peakRssGrowthMb, 1)} MB at the peak) | ${pass(memory.rssGrowthMb < 30)} |`)
  lines.push(`| JWKS fetched once at onReady | ${load.jwksFetchesAtStart} fetches for ${load.pluginServers} plugin instances before ` +
    `any request, ${load.jwksFetchesAfterLoad - load.jwksFetchesAtStart} during the load | ` +
    `${pass(load.jwksFetchesAtStart === load.pluginServers && load.jwksFetchesAfterLoad === load.jwksFetchesAtStart)} |`)
  lines.push(...storeRows.others)
  lines.push('')

  lines.push(...loadTables(load, byId))

  lines.push('## Single-thread verification of one token (no cache, distinct tokens)', '')
  lines.push('| verifier | verifications/s | CPU us per verification | ratio to the node:crypto floor |')
  lines.push('|---|---:|---:|---:|')
  for (const r of verify.results) {
    lines.push(`| ${r.label} | ${format(1e6 / r.microseconds)} | ${format(r.microseconds, 1)} | ${format(r.ratio, 2)} |`)
  }
  lines.push('', 'CPU time of this process in blocks of 40 verifications, every verifier in turn, 120 rounds; each ratio is ' +
    'taken against the floor of the same round (median over the rounds). The floor is node:crypto `verify` alone, with ' +
    'the signing input and the signature already decoded.', '')

  lines.push('## Login callback CPU (everything except the IdP round trip)', '')
  lines.push('| measured | CPU us per login |')
  lines.push('|---|---:|')
  lines.push(`| GET /login/redirect, whole (app.inject, token endpoint on loopback) | ${format(callback.totalMicroseconds, 0)} |`)
  lines.push(`| the token request alone (same request and answer, same process) | ${format(callback.roundTripMicroseconds, 0)} |`)
  lines.push(`| **the callback's own CPU** (state check, 2 token verifications, session encryption, cookies) | **${format(callback.ownMicroseconds, 0)}** |`)
  lines.push(`| for scale: app.inject of a trivial route of the same app (any request served this way) | ${format(callback.trivialInjectMicroseconds, 0)} |`)
  lines.push(`| for scale: 2 x the node:crypto RSA floor | ${format(2 * floor, 0)} |`)
  lines.push('', `${callback.logins} logins after ${CALLBACK_WARMUP} for warm-up, in blocks of ${CALLBACK_BLOCK} alternating with the token request alone ` +
    'and the trivial route; medians over the blocks.', '')

  lines.push('## Memory', '')
  lines.push(`- ${format(memory.tokens)} distinct ${memory.tokenLength}-byte tokens through the verified-token cache at its default bound ` +
    `(${format(memory.bound)}), each with its frozen claims and the guard's user object: cache size ${format(memory.size)}; ` +
    `live heap +${format(memory.heapGrowthMb, 1)} MB; RSS +${format(memory.rssGrowthMb, 1)} MB once V8 has settled, ` +
    `+${format(memory.peakRssGrowthMb, 1)} MB at the peak, right after the 100,000 tokens, while V8 still holds the ` +
    'old-generation room the churn of evicted entries used.')
  lines.push(`- Expired entries held once the clock has passed every exp: ${memory.heldAfterExpiry}.`)
  lines.push(`- How: ${memory.how}`, '')

  lines.push(...storeSection(load, store, fx))

  lines.push('## Start-up', '')
  lines.push(`- JWKS fetched at onReady: ${load.jwksFetchesAtStart} fetches for ${load.pluginServers} plugin instances before any request, ` +
    `${load.jwksFetchesAfterLoad - load.jwksFetchesAtStart} during the load.`)
  lines.push(`- First guarded request after start (includes connection set-up and the first verification): ${format(load.firstRequestMs, 1)} ms.`, '')
  return lines.join('\n')
}

/** Sign-out across three instances on the benchmark's Redis, in a child process on the (now idle) server core. */
async function fleet (fx: Fixtures, redis: BenchRedis, pinned: boolean): Promise<StoreResults> {
  console.log(`sign-out across 3 instances on one Redis (${SIGN_OUTS} sign-outs)...`)
  const alice = fx.idp.users.find((user) => user.username === 'alice')
  if (alice === undefined) throw new Error('the local IdP has no alice')
  const input: FleetInput = {
    redisUrl: redis.url,
    domain: fx.idp.domain,
    issuer: fx.idp.issuer,
    jwksUri: fx.idp.jwksUri,
    username: alice.username,
    password: alice.password,
    signOuts: SIGN_OUTS
  }
  const result = await child<FleetResult>('bench/fleet.ts', input, { core: pinned ? 0 : undefined })
  console.log(`sign-out refused on the other instances: median ${format(median(result.refusedEverywhere), 1)} ms, ` +
    `max ${format(rank(result.refusedEverywhere, 1), 1)} ms`)
  return { redisVersion: redis.version, fleet: result }
}

async function main (): Promise<void> {
  const started = performance.now()
  const pinned = canPin()
  console.log(`fastify-cognito benchmark: ${os.cpus()[0]?.model.trim() ?? ''}, ${os.cpus().length} cores, Node ${process.version}` +
    (pinned ? ', server on CPU 0, load on CPU 1' : ', no CPU pinning') + (ONLY === undefined ? '' : `, BENCH_ONLY=${ONLY}`))
  const skipped = redisSkipped()
  if (skipped !== undefined) {
    console.log(skipped)
    if (ONLY === 'store') return
  }
  // Started first (and stopped last, whatever happens): the store session of the fixtures is signed in on it.
  const redis = skipped === undefined ? await startRedis() : undefined
  if (redis !== undefined) console.log(`redis-server ${redis.version} at ${redis.url}`)
  try {
    const fx = await createFixtures(ONLY === 'store' ? 1 : POOL_SIZE, { redisUrl: redis?.url })
    try {
      const loadResults = await load(fx, pinned, redis)
      if (loadResults.redisCommands !== undefined) {
        console.log(`Redis commands per repeated guarded request (store session): ${format(commandsPerRequest(loadResults.redisCommands), 4)} ` +
          `(${format(totalCalls(loadResults.redisCommands.calls))} commands for ${format(loadResults.redisCommands.requests)} requests; ` +
          `by command: ${breakdown(loadResults.redisCommands.calls)})`)
      }
      const store = redis === undefined ? skipped as string : await fleet(fx, redis, pinned)
      if (ONLY === 'store') {
        console.log(`\n${storeReport(loadResults, store, fx, (performance.now() - started) / 1000)}`)
        console.log('BENCH_ONLY is set: bench/results.md is left as it is')
        return
      }
      console.log('login callback...')
      const callback = await measureCallback(fx.idp)
      // Memory on the (now idle) server core, meanwhile the verification micro-benchmark here (its ratios are taken
      // round by round against the floor, so a neighbour cannot skew them): the memory run mostly waits for V8.
      console.log('memory (in the background) and single-thread verification...')
      const memory = child<MemoryResult>('bench/memory.ts', { token: fx.bearerToken, jwks: fx.jwks }, { nodeFlags: ['--expose-gc'], core: pinned ? 0 : undefined })
      const verify = await child<VerifyResult>('bench/verify.ts', { tokens: fx.tokenPool.slice(0, 1000), jwks: fx.jwks, issuer: COGNITO_ISSUER, accessKid: fx.accessKid })
      const text = report(loadResults, verify, callback, await memory, fx, store, (performance.now() - started) / 1000)
      console.log(`\n${text}`)
      await writeFile(fileURLToPath(new URL('results.md', import.meta.url)), `${text}\n`)
      console.log('written to bench/results.md')
    } finally {
      await fx.close()
    }
  } finally {
    await redis?.close()
  }
}

await main()
