import type { FastifyBaseLogger } from 'fastify'
import { CognitoSessionStoreUnavailableError } from '../errors.js'
import type { CognitoSessionStore } from '../types-store.js'

/**
 * Every call to the app's session store goes through here: bounded by `sessionStoreTimeout`, and any failure,
 * whatever the store threw, becomes CognitoSessionStoreUnavailableError (503), logged by its name only (a store's
 * error message may quote a key or a value).
 */
export class BoundedStore {
  readonly #store: CognitoSessionStore
  readonly #timeoutMs: number
  readonly #log: FastifyBaseLogger

  constructor (store: CognitoSessionStore, timeoutMs: number, log: FastifyBaseLogger) {
    this.#store = store
    this.#timeoutMs = timeoutMs
    this.#log = log
  }

  get store (): CognitoSessionStore {
    return this.#store
  }

  get timeoutMs (): number {
    return this.#timeoutMs
  }

  /** `operation` names the call in the log line of a failure. */
  async call<T> (operation: string, run: (store: CognitoSessionStore) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new CognitoSessionStoreUnavailableError(`The session store did not answer within ${this.#timeoutMs} ms: retry shortly`)) }, this.#timeoutMs)
    })
    try {
      return await Promise.race([run(this.#store), timeout])
    } catch (error) {
      // No `cause`: Fastify logs a 5xx error with its causes' messages and stacks, and a store's message may quote a
      // key or a value. The store's error is logged here, by its name only.
      const failure = error instanceof CognitoSessionStoreUnavailableError ? error : new CognitoSessionStoreUnavailableError()
      this.#log.warn({ operation, error: error instanceof Error ? error.name : typeof error, code: failure.code }, 'fastify-cognito: the session store failed')
      throw failure
    } finally {
      clearTimeout(timer)
    }
  }
}
