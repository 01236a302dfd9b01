import type { CognitoAccessTokenPayload, CognitoIdTokenPayload, CognitoUser } from 'fastify-cognito'
import {
  escapeHtml, formatExpiry, formatTime, groupTags, layout, loginHref, logoutForm, notice, sessionActions, type Paths
} from './layout.js'

export { escapeHtml, type Paths } from './layout.js'

/** A demo user as the home page shows it (local mode only). */
export interface DemoUser {
  username: string
  password: string
  groups: string[]
}

export interface HomeInput {
  paths: Paths
  idp: string
  users: DemoUser[]
  /** Who is signed in, or null. */
  user: CognitoUser | null
  /** Just back from Cognito's /logout. */
  signedOut: boolean
}

function groupSummary (groups: readonly string[]): string {
  return groups.length === 0 ? 'no groups' : `groups: ${groups.map(escapeHtml).join(', ')}`
}

function sessionStatus (input: HomeInput): string {
  const { user, paths } = input
  if (user === null) {
    return `<section class="status" id="session-status">
<p><span class="status-dot"></span><strong>Not signed in.</strong> <span class="muted">${input.users.length > 0 ? 'Use one of the demo users below.' : 'Use a user of your user pool.'}</span></p>
<div class="actions"><a id="login" class="button" href="${escapeHtml(loginHref(paths, '/private'))}">Sign in</a></div>
</section>`
  }
  return `<section class="status signed-in" id="session-status">
<p><span class="status-dot"></span>Signed in as <strong id="signed-in-user">${escapeHtml(user.username)}</strong> <span class="muted">(${groupSummary(user.groups)})</span></p>
<div class="actions"><a class="button" href="/private">Your page</a><a class="button quiet" href="/token">Tokens</a>${logoutForm(paths)}</div>
</section>`
}

export function homePage (input: HomeInput): string {
  const signedOut = input.signedOut && input.user === null
    ? notice('success', '<strong>You are signed out.</strong> The session cookie is gone and the refresh token is revoked.', 'signed-out')
    : ''
  const users = input.users.length === 0
    ? ''
    : `<h2>Demo users</h2>
<table class="users">
<thead><tr><th>Username</th><th>Password</th><th>Groups</th></tr></thead>
<tbody>
${input.users.map(user => `<tr><td><code>${escapeHtml(user.username)}</code></td><td><code>${escapeHtml(user.password)}</code></td><td>${groupTags(user.groups)}</td></tr>`).join('\n')}
</tbody>
</table>`
  return layout('Home', 'home', `${signedOut}<h1>Cognito sign-in for Fastify</h1>
<p>This app signs users in with ${escapeHtml(input.idp)} through <code>fastify-cognito</code>: authorization code with PKCE,
an encrypted session cookie, and route guards for signed-in users and groups.</p>
${sessionStatus(input)}
${users}
<h2>What to try</h2>
<ul>
<li><a href="/private">/private</a>: who you are. Any signed-in user; <code>requireAuth()</code> sends others to sign in.</li>
<li><a href="/admin">/admin</a>: members of the group <code>admin</code> only. Others get a 403 page.</li>
<li><a href="/token">/token</a>: the decoded claims of the access and ID tokens, with Refresh (also as <a href="/token.json">JSON</a>).</li>
</ul>`)
}

export function privatePage (user: CognitoUser, token: CognitoAccessTokenPayload, paths: Paths): string {
  return layout('Private', 'private', `<h1>Hello, <span id="username">${escapeHtml(user.username)}</span></h1>
<p>You are signed in. This page is guarded by <code>app.cognito.requireAuth()</code>.</p>
<table class="kv">
<tr><th>Username</th><td>${escapeHtml(user.username)}</td></tr>
<tr><th>Email</th><td id="email">${user.email === undefined ? '<span class="muted">none</span>' : escapeHtml(user.email)}${user.emailVerified === true ? ' <span class="muted">(verified)</span>' : ''}</td></tr>
<tr><th>Groups</th><td id="groups">${groupTags(user.groups)}</td></tr>
<tr><th>Subject</th><td><code>${escapeHtml(user.sub)}</code></td></tr>
<tr><th>Scopes</th><td>${escapeHtml(user.scopes.join(' '))}</td></tr>
<tr><th>Access token expires</th><td id="expiry">${escapeHtml(formatExpiry(token.exp))}</td></tr>
</table>
${sessionActions(paths)}`)
}

export function adminPage (user: CognitoUser): string {
  return layout('Admin', 'admin', `<h1>Admin area</h1>
${notice('success', `Welcome, <strong>${escapeHtml(user.username)}</strong>. You are in the group <code>admin</code>.`)}
<p>Only members of the group <code>admin</code> see this page: it is guarded by
<code>requireAuth({ groups: ['admin'] })</code>. Signed-in users outside the group get a 403 page, never a login loop.</p>
<p>Your groups: ${groupTags(user.groups)}</p>
<div class="actions"><a class="button quiet" href="/private">Your page</a><a class="button quiet" href="/token">Tokens</a></div>`)
}

/** Claims that are epoch seconds: shown with their date too. */
const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'nbf'])

function claimValue (name: string, value: unknown): string {
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    return `${escapeHtml(value)} <span class="muted">${escapeHtml(name === 'exp' ? formatExpiry(value) : formatTime(value))}</span>`
  }
  if (name === 'cognito:groups' && Array.isArray(value)) return groupTags(value.map(String))
  if (typeof value === 'string') return escapeHtml(value)
  return `<code>${escapeHtml(JSON.stringify(value))}</code>`
}

function claimsTable (id: string, claims: Record<string, unknown>): string {
  const rows = Object.entries(claims).map(([name, value]) => `<tr><th><code>${escapeHtml(name)}</code></th><td>${claimValue(name, value)}</td></tr>`)
  return `<table class="kv claims" id="${id}">\n${rows.join('\n')}\n</table>`
}

/** /token: what the guard verified. The tokens themselves stay in the encrypted cookie; only their claims are shown. */
export function tokenPage (user: CognitoUser, access: CognitoAccessTokenPayload, id: CognitoIdTokenPayload | null, paths: Paths): string {
  const idSection = id === null
    ? '<p class="muted">This session has no ID token (the <code>openid</code> scope was not requested).</p>'
    : claimsTable('id-claims', id)
  return layout('Token', 'token', `<h1>Tokens</h1>
<p>The verified claims of the tokens of <strong>${escapeHtml(user.username)}</strong>'s session, decoded on the server.
Also as <a id="token-json" href="/token.json">JSON</a>.</p>
<table class="kv">
<tr><th>Access token expires</th><td id="expiry">${escapeHtml(formatExpiry(access.exp))}</td></tr>
<tr><th>ID token expires</th><td id="id-expiry">${id === null ? '<span class="muted">no ID token</span>' : escapeHtml(formatExpiry(id.exp))}</td></tr>
</table>
${sessionActions(paths, { reload: true })}
<h2>Access token <span class="muted">token_use: access, sent to APIs as a Bearer token</span></h2>
${claimsTable('access-claims', access)}
<h2>ID token <span class="muted">token_use: id, who signed in</span></h2>
${idSection}`)
}
