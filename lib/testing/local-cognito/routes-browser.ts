import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { checkAuthorizeRequest, type AuthorizeOutcome, type AuthorizeRequest } from './authorize-request.js'
import { safeEqual } from './client-auth.js'
import { findClient, findUser, nowSeconds, type Context } from './context.js'
import { errorPage, sendHtml, signInPage } from './html.js'
import { formParams, queryParams, withParams } from './http.js'
import { BROWSER_SESSION_SECONDS, type BrowserSession } from './stores.js'

const SESSION_COOKIE = 'cognito'

type Failure = Exclude<AuthorizeOutcome, { kind: 'ok' }>

function answerFailure (reply: FastifyReply, failure: Failure): FastifyReply {
  return failure.kind === 'page' ? sendHtml(reply, 400, errorPage(failure.message)) : reply.redirect(failure.location)
}

function codeRedirect (ctx: Context, authz: AuthorizeRequest, username: string, authTime: number): string {
  const code = ctx.stores.putCode({
    clientId: authz.client.clientId,
    redirectUri: authz.redirectUri,
    scopes: authz.scopes,
    username,
    authTime,
    ...(authz.nonce !== undefined ? { nonce: authz.nonce } : {}),
    ...(authz.codeChallenge !== undefined ? { codeChallenge: authz.codeChallenge } : {})
  })
  // No RFC 9207 `iss` parameter: Cognito sends none.
  return withParams(authz.redirectUri, { code, state: authz.state })
}

function browserSession (ctx: Context, request: FastifyRequest): BrowserSession | undefined {
  const session = ctx.stores.browserSession(request.cookies[SESSION_COOKIE])
  return session !== undefined && findUser(ctx, session.username) !== undefined ? session : undefined
}

function endBrowserSession (ctx: Context, request: FastifyRequest, reply: FastifyReply): void {
  ctx.stores.deleteBrowserSession(request.cookies[SESSION_COOKIE])
  reply.clearCookie(SESSION_COOKIE, { path: '/' })
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
    if (session !== undefined) return reply.redirect(codeRedirect(ctx, authz, session.username, session.authTime))
    if (authz.prompt === 'none') {
      return reply.redirect(withParams(authz.redirectUri, { error: 'login_required', state: authz.state }))
    }
    return reply.redirect(`${ctx.urls.domain}/login?${authz.query}`)
  })

  app.get('/login', async (request, reply) => {
    ctx.requests.login++
    const outcome = checkAuthorizeRequest(ctx, queryParams(request))
    if (outcome.kind !== 'ok') return answerFailure(reply, outcome)
    const { query, client } = outcome.request
    return sendHtml(reply, 200, signInPage({ action: `/login?${query}`, clientId: client.clientId }))
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
    if (user === undefined || password === undefined || !safeEqual(password, user.password)) {
      // Cognito's managed login re-renders the form with status 200 and exactly this message.
      return sendHtml(reply, 200, signInPage({
        action: `/login?${authz.query}`,
        clientId: authz.client.clientId,
        ...(username !== undefined ? { username } : {}),
        error: 'Incorrect username or password.'
      }))
    }
    const authTime = nowSeconds(ctx)
    ctx.stores.deleteBrowserSession(request.cookies[SESSION_COOKIE])
    // Not Secure: the server speaks plain HTTP on loopback. Lax still lets the top-level authorize navigation send it.
    reply.setCookie(SESSION_COOKIE, ctx.stores.createBrowserSession(user.username, authTime), {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      maxAge: BROWSER_SESSION_SECONDS
    })
    return reply.redirect(codeRedirect(ctx, authz, user.username, authTime))
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
