import type { CognitoAccessTokenPayload, CognitoUser } from 'fastify-cognito'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Every value that comes from a user, a token or a request goes through here before it reaches HTML. */
export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, char => ESCAPES[char] ?? char)
}

/** A demo user as the home page shows it (local mode only). */
export interface DemoUser {
  username: string
  password: string
  groups: string[]
}

export interface Paths {
  login: string
  logout: string
  refresh: string
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; color: #1d2733; background: #eef1f5; margin: 0; }
header { background: #232f3e; color: #fff; padding: .8rem 2rem; display: flex; gap: 1.5rem; align-items: center; }
header a { color: #fff; }
header strong { margin-right: auto; }
main { max-width: 44rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
h1 { margin-top: 0; font-size: 1.6rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #dde3ea; vertical-align: top; }
th { width: 11rem; color: #4a5868; font-weight: 600; }
code { background: #f1f3f6; padding: 0 .25rem; border-radius: 3px; }
.actions { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; }
.actions form { margin: 0; }
button, .button { font: inherit; padding: .45rem 1.1rem; border-radius: 4px; border: 0; background: #ec7211; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #4a5868; }
.tag { display: inline-block; background: #e3f1e6; color: #1e6b33; border-radius: 3px; padding: 0 .4rem; margin-right: .3rem; }
.muted { color: #6b7785; }
.error { color: #b3261e; }
#refresh-status { color: #1e6b33; }
`

function layout (title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · fastify-cognito demo</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>fastify-cognito demo</strong><a href="/">Home</a><a href="/private">Private</a><a href="/admin">Admin</a><a href="/token">Token</a></header>
<main>
${body}
</main>
</body>
</html>
`
}

function groupTags (groups: readonly string[]): string {
  return groups.length === 0
    ? '<span class="muted">none</span>'
    : groups.map(group => `<span class="tag">${escapeHtml(group)}</span>`).join('')
}

function expiry (exp: number, now = Date.now()): string {
  const minutes = Math.round((exp * 1000 - now) / 60000)
  return `${new Date(exp * 1000).toISOString()} <span class="muted">(in ${minutes} min)</span>`
}

export function homePage (input: { paths: Paths, idp: string, users: DemoUser[] }): string {
  const users = input.users.length === 0
    ? ''
    : `<h2>Demo users</h2>
<table>
<tr><th>Username</th><th>Password</th><th>Groups</th></tr>
${input.users.map(user => `<tr><td><code>${escapeHtml(user.username)}</code></td><td><code>${escapeHtml(user.password)}</code></td><td>${groupTags(user.groups)}</td></tr>`).join('\n')}
</table>`
  return layout('Home', `<h1>Sign in with Cognito</h1>
<p>This app signs users in with ${escapeHtml(input.idp)} through <code>fastify-cognito</code>: authorization code with PKCE,
an encrypted session cookie, and route guards for signed-in users and groups.</p>
<p class="actions"><a id="login" class="button" href="${escapeHtml(`${input.paths.login}?returnTo=${encodeURIComponent('/private')}`)}">Login</a>
<span class="muted">then see <a href="/private">/private</a>, <a href="/admin">/admin</a> (group <code>admin</code>) and <a href="/token">/token</a></span></p>
${users}`)
}

export function privatePage (user: CognitoUser, token: CognitoAccessTokenPayload, paths: Paths): string {
  return layout('Private', `<h1>Hello, <span id="username">${escapeHtml(user.username)}</span></h1>
<p>You are signed in. This page is guarded by <code>app.cognito.requireAuth()</code>.</p>
<table>
<tr><th>Username</th><td>${escapeHtml(user.username)}</td></tr>
<tr><th>Email</th><td id="email">${user.email === undefined ? '<span class="muted">none</span>' : escapeHtml(user.email)}${user.emailVerified === true ? ' <span class="muted">(verified)</span>' : ''}</td></tr>
<tr><th>Groups</th><td id="groups">${groupTags(user.groups)}</td></tr>
<tr><th>Subject</th><td><code>${escapeHtml(user.sub)}</code></td></tr>
<tr><th>Scopes</th><td>${escapeHtml(user.scopes.join(' '))}</td></tr>
<tr><th>Access token expires</th><td id="expiry">${expiry(token.exp)}</td></tr>
</table>
<div class="actions">
<button id="refresh" type="button" data-refresh-path="${escapeHtml(paths.refresh)}">Refresh tokens</button>
<form method="post" action="${escapeHtml(paths.logout)}"><button id="logout" class="secondary" type="submit">Logout</button></form>
<span id="refresh-status" role="status"></span>
</div>
<script src="/assets/private.js"></script>`)
}

/** Served as /assets/private.js, so the pages' CSP needs no 'unsafe-inline' for scripts. */
export const PRIVATE_SCRIPT = `
const button = document.getElementById('refresh')
const status = document.getElementById('refresh-status')
button.addEventListener('click', async () => {
  button.disabled = true
  try {
    const response = await fetch(button.dataset.refreshPath, { method: 'POST' })
    if (!response.ok) {
      status.className = 'error'
      status.textContent = 'Refresh failed (' + response.status + '): sign in again'
      return
    }
    const { expiresAt } = await response.json()
    const minutes = Math.round((expiresAt * 1000 - Date.now()) / 60000)
    document.getElementById('expiry').textContent = new Date(expiresAt * 1000).toISOString() + ' (in ' + minutes + ' min)'
    status.className = ''
    status.textContent = 'Tokens refreshed at ' + new Date().toLocaleTimeString()
  } finally {
    button.disabled = false
  }
})
`

export function adminPage (user: CognitoUser): string {
  return layout('Admin', `<h1>Admin area</h1>
<p>Welcome, <strong>${escapeHtml(user.username)}</strong>. Only members of the group <code>admin</code> see this page
(<code>requireAuth({ groups: ['admin'] })</code>).</p>
<p>Your groups: ${groupTags(user.groups)}</p>`)
}

export function forbiddenPage (missingGroups: readonly string[], missingScopes: readonly string[]): string {
  const missing = [
    ...missingGroups.map(group => `the group <code>${escapeHtml(group)}</code>`),
    ...missingScopes.map(scope => `the scope <code>${escapeHtml(scope)}</code>`)
  ]
  return layout('Forbidden', `<h1>403 · Not allowed</h1>
<p class="error">You are signed in, but this page needs ${missing.length === 0 ? 'more permissions' : missing.join(' and ')}.</p>
<p>To see it, log out on <a href="/private">your page</a> and sign in as a member of that group.</p>`)
}

export function errorPage (statusCode: number, code: string, message: string): string {
  return layout('Error', `<h1>${escapeHtml(statusCode)} · Something went wrong</h1>
<p class="error"><code>${escapeHtml(code)}</code> ${escapeHtml(message)}</p>
<p><a href="/">Back to the home page</a></p>`)
}
