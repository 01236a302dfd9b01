/**
 * A bounded, expiring map: the building block of the verified-token cache, the logout denylist and the
 * decoded-session cache.
 *
 * - Bounded: at most `maxEntries`; inserting beyond that drops the least recently used entry. Recency is kept
 *   the cheap way: an entry read while it is in the older half of the map moves to the newest end, so a hit
 *   usually costs one `Map.get` and no reordering. Every operation is O(1) (amortised, see below).
 * - Expiring: every entry has a deadline in the cache's clock (seconds). `get` never returns an entry at or past
 *   its deadline, and drops it. Besides, as soon as any operation runs at or after the earliest deadline, every
 *   expired entry is swept out; the sweep walks the map at most once per second, so it costs O(1) amortised.
 * - `maxEntries` 0 turns the cache off: `set` stores nothing.
 */
export class ExpiringCache<V, K extends string | number = string> {
  readonly #maxEntries: number
  readonly #promoteDistance: number
  readonly #now: () => number
  readonly #entries = new Map<K, Slot<V>>()
  /** Counts inserts and moves; an entry's `tick` says how recently it was put at the newest end. */
  #tick = 0
  /** Earliest deadline of any entry (or later: entries may have left since). */
  #earliestDeadline = Infinity
  #nextSweep = -Infinity

  /**
   * @param maxEntries whole number >= 0
   * @param now the clock, in seconds, that deadlines are expressed in
   */
  constructor (maxEntries: number, now: () => number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError('maxEntries must be a whole number >= 0')
    this.#maxEntries = maxEntries
    this.#promoteDistance = Math.floor(maxEntries / 2)
    this.#now = now
  }

  get size (): number {
    return this.#entries.size
  }

  get maxEntries (): number {
    return this.#maxEntries
  }

  /** The value stored under exactly `key`, unless it has expired (it is then dropped). */
  get (key: K): V | undefined {
    const now = this.#now()
    if (now >= this.#nextSweep && now >= this.#earliestDeadline) this.#sweep(now)
    const slot = this.#entries.get(key)
    if (slot === undefined) return undefined
    if (now >= slot.deadline) {
      this.#entries.delete(key)
      return undefined
    }
    if (this.#tick - slot.tick > this.#promoteDistance) {
      this.#entries.delete(key)
      slot.tick = ++this.#tick
      this.#entries.set(key, slot)
    }
    return slot.value
  }

  /** Stores `value` under `key` until `deadline` (cache clock, seconds). A deadline already past stores nothing. */
  set (key: K, value: V, deadline: number): void {
    if (this.#maxEntries === 0) return
    const now = this.#now()
    if (now >= this.#nextSweep && now >= this.#earliestDeadline) this.#sweep(now)
    if (!(deadline > now)) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, deadline, tick: ++this.#tick })
    if (deadline < this.#earliestDeadline) this.#earliestDeadline = deadline
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as K
      this.#entries.delete(oldest)
    }
  }

  delete (key: K): boolean {
    return this.#entries.delete(key)
  }

  /** Drops every entry for which `predicate` is true (O(n): for rare events such as a key rotation). */
  deleteWhere (predicate: (value: V, key: K) => boolean): number {
    let dropped = 0
    for (const [key, slot] of this.#entries) {
      if (predicate(slot.value, key)) {
        this.#entries.delete(key)
        dropped++
      }
    }
    return dropped
  }

  /** Drops every expired entry now. */
  prune (): void {
    this.#sweep(this.#now())
  }

  clear (): void {
    this.#entries.clear()
    this.#earliestDeadline = Infinity
  }

  #sweep (now: number): void {
    let earliest = Infinity
    for (const [key, slot] of this.#entries) {
      if (now >= slot.deadline) this.#entries.delete(key)
      else if (slot.deadline < earliest) earliest = slot.deadline
    }
    this.#earliestDeadline = earliest
    this.#nextSweep = now + 1
  }
}

/**
 * A 30-bit number from the last `characters` characters of `value`: a cheap map index (no allocation, hashing a
 * small integer) for values whose end is random, such as a token's signature or a cookie's nonce. An index is
 * not an identity: a hit must still compare the whole value, and two values with the same index only cost one of
 * them its cache entry.
 */
export function tailIndex (value: string, characters: number): number {
  let index = 0
  for (let i = Math.max(0, value.length - characters); i < value.length; i++) index = (index * 61 + value.charCodeAt(i)) & 0x3fffffff
  return index
}

interface Slot<V> {
  readonly value: V
  readonly deadline: number
  tick: number
}
