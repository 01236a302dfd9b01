/**
 * The plugin's one clock. Every deadline, expiry and age is read from it: tokens and sessions in epoch seconds,
 * HTTP cool-downs in milliseconds. Tests give the plugin their own `now` and move time instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  readonly millis: () => number
  /** Epoch seconds, with a fraction. */
  readonly seconds: () => number
}

export function createClock (now: () => number = Date.now): Clock {
  return Object.freeze({ millis: now, seconds: () => now() / 1000 })
}
