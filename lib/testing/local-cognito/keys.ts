import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'

const generateRsaKeyPair = promisify(generateKeyPair)

export interface PublicJwk {
  alg: 'RS256'
  e: string
  kid: string
  kty: 'RSA'
  n: string
  use: 'sig'
}

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  /** The classic algorithm-confusion attack uses the public key as an HMAC secret; minted HS* tokens need it. */
  publicKeyPem: string
  jwk: PublicJwk
}

async function createSigningKey (): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 })
  // Cognito kids are base64 of 32 bytes, hence 44 characters ending in a single '='.
  const kid = randomBytes(32).toString('base64')
  const { n, e } = publicKey.export({ format: 'jwk' })
  if (n === undefined || e === undefined) throw new Error('local-cognito: RSA key export lacks n or e')
  return {
    kid,
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    jwk: { alg: 'RS256', e, kid, kty: 'RSA', n, use: 'sig' }
  }
}

/**
 * RSA key generation costs ~250 ms a key, and test suites start many pools. Every pool (and token issuer) started
 * in this process therefore begins with the same two key pairs, generated once on first use. That is safe for
 * tests: each pool has its own issuer, so a token of one pool never verifies at an app configured for another.
 * `rotate()` always generates fresh keys and leaves this shared pair alone.
 */
let sharedKeys: Promise<[SigningKey, SigningKey]> | undefined

async function createKeyPair (): Promise<[SigningKey, SigningKey]> {
  return Promise.all([createSigningKey(), createSigningKey()])
}

function sharedKeyPair (): Promise<[SigningKey, SigningKey]> {
  sharedKeys ??= createKeyPair().catch((error: unknown) => {
    // A failed generation must not poison every later start.
    sharedKeys = undefined
    throw error
  })
  return sharedKeys
}

/** The pool's two keys: like Cognito, one signs ID tokens and the other access tokens. */
export class KeyRing {
  #idKey: SigningKey
  #accessKey: SigningKey

  private constructor (idKey: SigningKey, accessKey: SigningKey) {
    this.#idKey = idKey
    this.#accessKey = accessKey
  }

  /** Starts with the process-wide shared key pair; `rotate()` then gives this ring fresh keys of its own. */
  static async create (): Promise<KeyRing> {
    const [idKey, accessKey] = await sharedKeyPair()
    return new KeyRing(idKey, accessKey)
  }

  get idKey (): SigningKey {
    return this.#idKey
  }

  get accessKey (): SigningKey {
    return this.#accessKey
  }

  async rotate (): Promise<void> {
    const [idKey, accessKey] = await createKeyPair()
    this.#idKey = idKey
    this.#accessKey = accessKey
  }

  jwks (): { keys: PublicJwk[] } {
    return { keys: [{ ...this.#idKey.jwk }, { ...this.#accessKey.jwk }] }
  }

  find (kid: unknown): SigningKey | undefined {
    return [this.#idKey, this.#accessKey].find(key => key.kid === kid)
  }
}
