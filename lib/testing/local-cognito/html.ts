import type { FastifyReply } from 'fastify'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, char => ESCAPES[char] ?? char)
}

function page (title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; background: #f4f4f4; margin: 0; }
main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 6px; box-shadow: 0 1px 4px #0003; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: .25rem 0 1rem; padding: .5rem; }
button { padding: .6rem; background: #ec7211; color: #fff; border: 0; border-radius: 3px; cursor: pointer; }
.errorMessage { color: #c0392b; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`
}

export interface SignInPageInput {
  /** The full form action, query included; escaped here. */
  action: string
  clientId: string
  username?: string
  error?: string
  /** One link per simulated federated provider, each a new authorize request with `identity_provider`. */
  providers?: Array<{ name: string, href: string }>
}

/** Element ids and names follow Cognito's classic hosted UI so browser tests can use the same selectors. */
export function signInPage (input: SignInPageInput): string {
  const error = input.error === undefined
    ? ''
    : `<p id="loginErrorMessage" class="errorMessage">${escapeHtml(input.error)}</p>\n`
  return page('Signin', `<h1>Sign in with your username and password</h1>
<p>Local Cognito user pool, app client <code>${escapeHtml(input.clientId)}</code></p>
${error}<form name="cognitoSignInForm" method="post" action="${escapeHtml(input.action)}">
<label for="signInFormUsername">Username</label>
<input id="signInFormUsername" name="username" type="text" autocomplete="username" autocapitalize="none" required value="${escapeHtml(input.username ?? '')}">
<label for="signInFormPassword">Password</label>
<input id="signInFormPassword" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="signInSubmitButton">Sign in</button>
</form>${providerLinks(input.providers ?? [])}`)
}

function providerLinks (providers: Array<{ name: string, href: string }>): string {
  if (providers.length === 0) return ''
  const links = providers.map(({ name, href }) =>
    `<p><a class="idpButton" data-provider="${escapeHtml(name)}" href="${escapeHtml(href)}">Continue with ${escapeHtml(name)}</a></p>`)
  return `\n<h2>Sign in with your corporate or social ID</h2>\n${links.join('\n')}`
}

export interface ProviderSignInPageInput {
  action: string
  providerName: string
  providerType: string
  /** What the page shows for the user: the email, else the provider's user id. */
  account: string
}

/** The simulated external provider: one button, no password, because the provider is not what is under test. */
export function providerSignInPage (input: ProviderSignInPageInput): string {
  return page(`Sign in with ${input.providerName}`, `<h1>${escapeHtml(input.providerName)} (simulated ${escapeHtml(input.providerType)} provider)</h1>
<p>Local Cognito user pool: this page stands in for the provider's own sign-in.</p>
<form name="federatedSignInForm" method="post" action="${escapeHtml(input.action)}">
<button type="submit" name="federatedSignInButton">Continue as ${escapeHtml(input.account)}</button>
</form>`)
}

export function errorPage (message: string): string {
  return page('Error', `<h1>An error was encountered with the requested page.</h1>
<p class="errorMessage">${escapeHtml(message)}</p>`)
}

export function sendHtml (reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    // No form-action directive: browsers apply it to the redirect after sign-in, which leaves for the app.
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .type('text/html; charset=utf-8')
    .send(html)
}
