/* eslint-disable camelcase -- the names are libsodium's */
// The part of sodium-native (libsodium bindings, also what @fastify/secure-session uses) that the session cookie
// uses. sodium-native ships no types of its own, and @types/sodium-native describes an older major.
declare module 'sodium-native' {
  export const crypto_secretbox_KEYBYTES: number
  export const crypto_secretbox_NONCEBYTES: number
  export const crypto_secretbox_MACBYTES: number
  export function crypto_secretbox_easy (ciphertext: Buffer, message: Buffer, nonce: Buffer, key: Buffer): void
  export function crypto_secretbox_open_easy (message: Buffer, ciphertext: Buffer, nonce: Buffer, key: Buffer): boolean
  export function randombytes_buf (buffer: Buffer): void
}
