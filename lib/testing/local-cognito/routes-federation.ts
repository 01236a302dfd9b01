import type { FastifyInstance } from 'fastify'
import { checkAuthorizeRequest, type AuthorizeRequest, type AuthorizeOutcome } from './authorize-request.js'
import { answerFailure, signInBrowser } from './browser-session.js'
import type { Context } from './context.js'
import { errorPage, providerSignInPage, sendHtml } from './html.js'
import { queryParams } from './http.js'
import type { ResolvedUser } from './types.js'

/**
 * Stands in for the external provider's sign-in page. Real Cognito sends the browser to Google (or the SAML/OIDC
 * provider), which comes back to `/oauth2/idpresponse`; locally both hops collapse into this one page, whose
 * button signs the provider's configured user in. The authorize query rides along and is checked again on POST.
 */
const PATH = '/federated-sign-in'

export function federatedSignInUrl (ctx: Context, authz: AuthorizeRequest): string {
  return `${ctx.urls.domain}${PATH}?${authz.query}`
}

type Checked = { kind: 'ok', authz: AuthorizeRequest, user: ResolvedUser } | Exclude<AuthorizeOutcome, { kind: 'ok' }>

function check (ctx: Context, raw: Parameters<typeof checkAuthorizeRequest>[1]): Checked {
  const outcome = checkAuthorizeRequest(ctx, raw)
  if (outcome.kind !== 'ok') return outcome
  const name = outcome.request.identityProvider
  const user = name === undefined ? undefined : ctx.config.federatedUsers.get(name)
  if (user === undefined) return { kind: 'page', message: 'identity_provider must name a federated identity provider of this user pool.' }
  return { kind: 'ok', authz: outcome.request, user }
}

export function registerFederationRoutes (app: FastifyInstance, ctx: Context): void {
  app.get(PATH, async (request, reply) => {
    ctx.requests.federatedLogin++
    const checked = check(ctx, queryParams(request))
    if (checked.kind !== 'ok') return answerFailure(reply, checked)
    const { authz, user } = checked
    const identity = user.identity
    if (identity === undefined) return sendHtml(reply, 500, errorPage('Not a federated user.'))
    return sendHtml(reply, 200, providerSignInPage({
      action: `${PATH}?${authz.query}`,
      providerName: identity.providerName,
      providerType: identity.providerType,
      account: user.email ?? identity.userId
    }))
  })

  // No body is read: the one button is the whole sign-in, as a provider with a live session would do.
  app.post(PATH, async (request, reply) => {
    ctx.requests.federatedLogin++
    const checked = check(ctx, queryParams(request))
    if (checked.kind !== 'ok') return answerFailure(reply, checked)
    // Federated sign-in also starts the 1-hour managed-login session, so a later authorize skips every page.
    return signInBrowser(ctx, request, reply, checked.authz, checked.user.username)
  })
}
