import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AuthorizeOutcome, AuthorizeRequest } from './authorize-request.js'
import { findUser, nowSeconds, type Context } from './context.js'
import { errorPage, sendHtml } from './html.js'
import { withParams } from './http.js'
import { BROWSER_SESSION_SECONDS, type BrowserSession } from './stores.js'

/** What the sign-in pages share: the `cognito` session cookie and the redirect that carries a code. */
const SESSION_COOKIE = 'cognito'

export type Failure = Exclude<AuthorizeOutcome, { kind: 'ok' }>

export function answerFailure (reply: FastifyReply, failure: Failure): FastifyReply {
  return failure.kind === 'page' ? sendHtml(reply, 400, errorPage(failure.message)) : reply.redirect(failure.location)
}

export function codeRedirect (ctx: Context, authz: AuthorizeRequest, username: string, authTime: number): string {
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

export function browserSession (ctx: Context, request: FastifyRequest): BrowserSession | undefined {
  const session = ctx.stores.browserSession(request.cookies[SESSION_COOKIE])
  return session !== undefined && findUser(ctx, session.username) !== undefined ? session : undefined
}

/** A fresh sign-in replaces any earlier session of this browser; answers with the code redirect. */
export function signInBrowser (ctx: Context, request: FastifyRequest, reply: FastifyReply, authz: AuthorizeRequest, username: string): FastifyReply {
  const authTime = nowSeconds(ctx)
  ctx.stores.deleteBrowserSession(request.cookies[SESSION_COOKIE])
  // Not Secure: the server speaks plain HTTP on loopback. Lax still lets the top-level authorize navigation send it.
  reply.setCookie(SESSION_COOKIE, ctx.stores.createBrowserSession(username, authTime), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    maxAge: BROWSER_SESSION_SECONDS
  })
  return reply.redirect(codeRedirect(ctx, authz, username, authTime))
}

export function endBrowserSession (ctx: Context, request: FastifyRequest, reply: FastifyReply): void {
  ctx.stores.deleteBrowserSession(request.cookies[SESSION_COOKIE])
  reply.clearCookie(SESSION_COOKIE, { path: '/' })
}

/** `prompt=none` without a usable session: OIDC's error, sent back to the client. */
export function loginRequired (authz: AuthorizeRequest): string {
  return withParams(authz.redirectUri, { error: 'login_required', state: authz.state })
}
