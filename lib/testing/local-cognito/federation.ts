import { randomUUID } from 'node:crypto'
import type {
  LocalCognitoIdentityProvider, LocalCognitoProviderType, ResolvedIdentity, ResolvedUser
} from './types.js'

const SOCIAL_TYPES = new Set<LocalCognitoProviderType>(['Google', 'Facebook', 'LoginWithAmazon', 'SignInWithApple'])
const PROVIDER_TYPES = new Set<LocalCognitoProviderType>([...SOCIAL_TYPES, 'OIDC', 'SAML'])

export interface ResolvedProviders {
  /** The options as given, with every default filled in: what `LocalCognito.identityProviders` shows. */
  providers: LocalCognitoIdentityProvider[]
  /** One signed-in-able user per provider, keyed by provider name. */
  users: Map<string, ResolvedUser>
}

/**
 * Federated users look like Cognito's: username `<ProviderName>_<id>`, and membership of the group
 * `<userPoolId>_<ProviderName>` that Cognito creates for each provider and puts all its users in.
 */
export function resolveIdentityProviders (
  given: LocalCognitoIdentityProvider[],
  userPoolId: string,
  startedAt: number,
  checkAttributes: (owner: string, attributes: Record<string, string> | undefined) => void
): ResolvedProviders {
  const providers: LocalCognitoIdentityProvider[] = []
  const users = new Map<string, ResolvedUser>()
  for (const provider of given) {
    const name = provider.name
    // Cognito's own rule for provider names: no leading underscore, no spaces; COGNITO means local users.
    if (typeof name !== 'string' || !/^[^_\s][^\s]{0,31}$/.test(name) || name === 'COGNITO') {
      throw new TypeError(`local-cognito: invalid identity provider name ${JSON.stringify(name)}`)
    }
    if (users.has(name)) throw new TypeError(`local-cognito: duplicate identity provider ${name}`)
    const providerType = provider.providerType ?? (SOCIAL_TYPES.has(name as LocalCognitoProviderType) ? name as LocalCognitoProviderType : 'OIDC')
    if (!PROVIDER_TYPES.has(providerType)) throw new TypeError(`local-cognito: invalid providerType of ${name}`)
    const { user } = provider
    if (typeof user?.id !== 'string' || user.id === '') throw new TypeError(`local-cognito: identity provider ${name} needs a user with an id`)
    checkAttributes(`${name}_${user.id}`, user.attributes)
    const resolvedUser = { ...user, sub: user.sub ?? randomUUID(), dateCreated: user.dateCreated ?? startedAt }
    providers.push({ ...provider, providerType, issuer: provider.issuer ?? null, user: resolvedUser })
    const identity: ResolvedIdentity = {
      providerName: name, providerType, userId: user.id, issuer: provider.issuer ?? null, dateCreated: resolvedUser.dateCreated
    }
    users.set(name, federatedUser(resolvedUser, identity, `${userPoolId}_${name}`))
  }
  return { providers, users }
}

function federatedUser (user: LocalCognitoIdentityProvider['user'] & { sub: string }, identity: ResolvedIdentity, group: string): ResolvedUser {
  const resolved: ResolvedUser = {
    username: `${identity.providerName}_${user.id}`,
    // Empty, so no form submission can ever match it; the sign-in form also refuses federated users outright.
    password: '',
    sub: user.sub,
    // Order within cognito:groups is not documented; configured groups first, then the automatic one.
    groups: [...(user.groups ?? []), group],
    identity
  }
  if (user.email !== undefined) resolved.email = user.email
  if (user.emailVerified !== undefined) resolved.emailVerified = user.emailVerified
  if (user.phoneNumber !== undefined) resolved.phoneNumber = user.phoneNumber
  if (user.name !== undefined) resolved.name = user.name
  if (user.attributes !== undefined) resolved.attributes = { ...user.attributes }
  return resolved
}

/** The ID token's `identities` claim: Cognito writes `primary` and `dateCreated` as strings. */
export function identitiesClaim (identity: ResolvedIdentity): Array<Record<string, unknown>> {
  return [{
    userId: identity.userId,
    providerName: identity.providerName,
    providerType: identity.providerType,
    issuer: identity.issuer,
    primary: 'true',
    dateCreated: String(identity.dateCreated)
  }]
}
