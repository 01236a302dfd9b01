/**
 * Freezes a JSON value and everything in it, so a cached value handed to many requests cannot be changed.
 * Children first, then the object itself (iterating a frozen object is slower in V8); arrays by index.
 */
export function deepFreeze<T> (value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const member: unknown = value[i]
      if (member !== null && typeof member === 'object') deepFreeze(member)
    }
  } else {
    const record = value as Record<string, unknown>
    for (const key in record) {
      const member = record[key]
      if (member !== null && typeof member === 'object') deepFreeze(member)
    }
  }
  return Object.freeze(value)
}
