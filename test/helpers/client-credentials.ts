import type { TestContext } from 'node:test'
import { CognitoHttpClient } from '../../lib/cognito/http.js'
import {
  ClientCredentialsTokenSource, resolveClientCredentialsOptions, type CognitoClientCredentialsOptions
} from '../../lib/cognito/client-credentials.js'
import { startLocalCognito, type LocalCognito } from '../../lib/testing/index.js'

export const MACHINE = 'machine'
export const MACHINE_SECRET = 'machine-secret-7d1f0c9a4b2e'
/** Allowed every custom scope of the pool (orders/read and orders/write). */
export const WIDE_MACHINE = 'wide-machine'
export const WIDE_SECRET = 'wide-machine-secret-51c6e08d'
/** A client whose tokens live a minute, shorter than the default refreshSkew. */
export const SHORT_MACHINE = 'short-machine'
export const SHORT_SECRET = 'short-machine-secret-2a9b4f'

/** A browser sign-in (code grant) client, which may not use the client credentials grant. */
export const WEB_CLIENT = 'web'
export const WEB_SECRET = 'web-secret-0e7d55c1'

/** One clock for the local Cognito and the token source: moving it moves both (epoch ms). */
export interface TestClock {
  now: () => number
  advance: (seconds: number) => void
}

export function manualClock (start = Date.UTC(2030, 0, 1)): TestClock {
  let current = start
  return { now: () => current, advance: (seconds) => { current += seconds * 1000 } }
}

/** A local Cognito with the `orders` resource server and three machine-to-machine clients and a browser one, closed after the tests. */
export async function startMachineIdp (clock: TestClock): Promise<LocalCognito> {
  const machine = { callbackUrls: [], allowedOAuthFlows: ['client_credentials' as const] }
  return await startLocalCognito({
    now: clock.now,
    resourceServers: [{ identifier: 'orders', scopes: ['read', 'write'] }],
    clients: [
      { clientId: MACHINE, clientSecret: MACHINE_SECRET, ...machine, allowedScopes: ['orders/read'] },
      { clientId: WIDE_MACHINE, clientSecret: WIDE_SECRET, ...machine },
      { clientId: SHORT_MACHINE, clientSecret: SHORT_SECRET, ...machine, accessTokenValiditySeconds: 60 },
      { clientId: WEB_CLIENT, clientSecret: WEB_SECRET, callbackUrls: ['http://localhost:3000/login/redirect'] }
    ]
  })
}

/** A token source over a fresh HTTP client (closed after the test), options resolved as the plugin will. */
export function tokenSource (
  t: Pick<TestContext, 'after'>,
  clock: TestClock,
  options: Partial<CognitoClientCredentialsOptions> & { domain: string },
  httpTimeout = 5000
): ClientCredentialsTokenSource {
  const http = new CognitoHttpClient(httpTimeout)
  t.after(async () => { await http.close() })
  const resolved = resolveClientCredentialsOptions({ clientId: MACHINE, clientSecret: MACHINE_SECRET, scopes: ['orders/read'], ...options })
  return new ClientCredentialsTokenSource(http, resolved, clock.now)
}

export function claimsOf (jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1]
  if (part === undefined) throw new Error('not a JWT')
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
}

/** Rejects with the error the promise rejects with (fails the test when it resolves). */
export async function rejection (promise: Promise<unknown>): Promise<Error & { code?: string, statusCode?: number, error?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}
