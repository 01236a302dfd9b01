/**
 * A clock the test moves by hand, in epoch milliseconds: the one `now` to give the plugin (`now` option) and the
 * local Cognito (`startLocalCognito({ now })`) alike, so tokens, sessions and cool-downs age together without sleeping.
 * It starts at the real time by default: @fastify/secure-session still reads the real clock for its cookie expiry.
 */
export interface ManualClock {
  /** Epoch milliseconds. */
  readonly now: () => number
  /** Epoch seconds, with a fraction. */
  readonly seconds: () => number
  /** Moves the clock forward (or back, negative) by `seconds`, fractions allowed (to the millisecond). */
  readonly advance: (seconds: number) => void
}

export function manualClock (start = Date.now()): ManualClock {
  let current = start
  return {
    now: () => current,
    seconds: () => current / 1000,
    advance: (seconds) => { current += Math.round(seconds * 1000) }
  }
}
