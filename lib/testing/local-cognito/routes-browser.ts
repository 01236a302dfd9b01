import type { FastifyInstance } from 'fastify'
import { checkAuthorizeRequest, type AuthorizeRequest } from './authorize-request.js'
import {
  answerFailure, browserSession, codeRedirect, endBrowserSession, loginRequired, signInBrowser
} from './browser-session.js'
import { safeEqual } from './client-auth.js'
import { findClient, findUser, type Context } from './context.js'
import { errorPage, sendHtml, signInPage, type SignInPageInput } from './html.js'
import { formParams, queryParams } from './http.js'
import { federatedSignInUrl } from './routes-federation.js'
import type { BrowserSession } from './stores.js'

/** The form, with one button per simulated provider (each a new authorize request naming it). */
function pageInput (ctx: Context, authz: AuthorizeRequest, extra: Partial<SignInPageInput> = {}): SignInPageInput {
  const providers = [...ctx.config.federatedUsers.keys()].map(name => {
    const query = new URLSearchParams(authz.query)
    query.set('identity_provider', name)
    return { name, href: `/oauth2/authorize?${query.toString()}` }
  })
  return { action: `/login?${authz.query}`, clientId: authz.client.clientId, providers, ...extra }
}

/**
 * With `identity_provider`, Cognito goes straight to the provider, whose own session decides whether it asks
 * anything; the simulated provider always shows its one-button page. `prompt=none` still never shows a page.
 */
function federatedAuthorize (ctx: Context, authz: AuthorizeRequest & { identityProvider: string }, session: BrowserSession | undefined): string {
  if (authz.prompt !== 'none') return federatedSignInUrl(ctx, authz)
  const user = ctx.config.federatedUsers.get(authz.identityProvider)
  if (session === undefined || findUser(ctx, session.username) !== user) return loginRequired(authz)
  return codeRedirect(ctx, authz, session.username, session.authTime)
}

export function registerBrowserRoutes (app: FastifyInstance, ctx: Context): void {
  app.get('/oauth2/authorize', async (request, reply) => {
    ctx.requests.authorize++
    const query = queryParams(request)
    ctx.lastAuthorizeQuery = query.toRecord()
    const outcome = checkAuthorizeRequest(ctx, query)
    if (outcome.kind !== 'ok') return answerFailure(reply, outcome)
    const authz = outcome.request
    // prompt=login asks for a new sign-in despite the session; select_account and consent change nothing locally.
    const session = authz.prompt === 'login' ? undefined : browserSession(ctx, request)
    const { identityProvider } = authz
    if (identityProvider !== undefined) return reply.redirect(federatedAuthorize(ctx, { ...authz, identityProvider }, session))
    if (session !== undefined) return reply.redirect(codeRedirect(ctx, authz, session.username, session.authTime))
    if (authz.prompt === 'none') return reply.redirect(loginRequired(authz))
    return reply.redirect(`${ctx.urls.domain}/login?${authz.query}`)
  })

  app.get('/login', async (request, reply) => {
    ctx.requests.login++
    const outcome = checkAuthorizeRequest(ctx, queryParams(request))
    if (outcome.kind !== 'ok') return answerFailure(reply, outcome)
    return sendHtml(reply, 200, signInPage(pageInput(ctx, outcome.request)))
  })

  app.post('/login', async (request, reply) => {
    ctx.requests.login++
    const outcome = checkAuthorizeRequest(ctx, queryParams(request))
    if (outcome.kind !== 'ok') return answerFailure(reply, outcome)
    const authz = outcome.request
    const form = formParams(request)
    if (form === undefined) return sendHtml(reply, 400, errorPage('The sign-in form must be application/x-www-form-urlencoded.'))
    const username = form.get('username')
    const password = form.get('password')
    const user = findUser(ctx, username)
    // Federated users have no password in the pool: only their provider signs them in.
    if (user === undefined || user.identity !== undefined || password === undefined || !safeEqual(password, user.password)) {
      // Cognito's managed login re-renders the form with status 200 and exactly this message.
      return sendHtml(reply, 200, signInPage(pageInput(ctx, authz, {
        ...(username !== undefined ? { username } : {}),
        error: 'Incorrect username or password.'
      })))
    }
    return signInBrowser(ctx, request, reply, authz, user.username)
  })

  // Cognito's /logout only ends the managed-login session; tokens stay valid until revoked or expired.
  app.get('/logout', async (request, reply) => {
    ctx.requests.logout++
    const query = queryParams(request)
    const client = findClient(ctx, query.get('client_id'))
    if (client === undefined) return sendHtml(reply, 400, errorPage('Required parameter client_id is missing or invalid.'))
    const logoutUri = query.get('logout_uri')
    if (logoutUri !== undefined) {
      if (!client.logoutUrls.includes(logoutUri)) {
        return sendHtml(reply, 400, errorPage('logout_uri is not an allowed sign-out URL of this app client.'))
      }
      endBrowserSession(ctx, request, reply)
      return reply.redirect(logoutUri)
    }
    const redirectUri = query.get('redirect_uri')
    if (redirectUri === undefined || query.get('response_type') === undefined || !client.callbackUrls.includes(redirectUri)) {
      return sendHtml(reply, 400, errorPage('Either a valid logout_uri, or redirect_uri and response_type, are required.'))
    }
    endBrowserSession(ctx, request, reply)
    return reply.redirect(`${ctx.urls.domain}/login?${query.toString()}`)
  })
}
