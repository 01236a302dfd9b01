import { LOGO_SVG } from './assets.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Every value that comes from a user, a token or a request goes through here before it reaches HTML. */
export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, char => ESCAPES[char] ?? char)
}

/** The plugin's routes, read from `app.cognito` so the pages follow its `prefix`. */
export interface Paths {
  login: string
  logout: string
  refresh: string
}

/** The header's links; the current one is marked for the eye and for screen readers. */
const NAV = [['home', '/', 'Home'], ['private', '/private', 'Private'], ['admin', '/admin', 'Admin'], ['token', '/token', 'Token']] as const
export type Section = typeof NAV[number][0] | undefined

const STYLE = `
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2733; background: #eef1f5; margin: 0; }
a { color: #0b63b6; }
header { background: #232f3e; color: #fff; }
.bar { max-width: 50rem; margin: 0 auto; padding: .7rem 1.5rem; display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1.5rem; }
.brand { display: flex; align-items: center; gap: .55rem; color: #fff; font-weight: 700; text-decoration: none; margin-right: auto; white-space: nowrap; }
.brand svg { width: 1.75rem; height: 1.75rem; flex: none; }
nav { display: flex; flex-wrap: wrap; gap: .2rem 1.25rem; }
nav a { color: #d5dbe3; text-decoration: none; border-bottom: 2px solid transparent; padding: .1rem 0; }
nav a:hover { color: #fff; }
nav a[aria-current="page"] { color: #fff; border-bottom-color: #ec7211; }
main { max-width: 46rem; margin: 2rem auto; background: #fff; padding: 1.6rem 2rem 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }
h1 { margin: 0 0 .8rem; font-size: 1.6rem; line-height: 1.25; }
h2 { margin: 1.8rem 0 .4rem; font-size: 1.15rem; }
h2 .muted { font-size: .9rem; font-weight: 400; }
p { margin: .6rem 0; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #dde3ea; vertical-align: top; }
th { color: #4a5868; font-weight: 600; }
.kv th { width: 13rem; white-space: nowrap; }
.kv.claims th { width: 11rem; }
/* Token values (ids, URLs, hashes) have no spaces: without this they would push the card wider than a phone. */
.kv td { overflow-wrap: anywhere; }
.users td, .users th { white-space: nowrap; }
code { font: .88em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f6; padding: .05rem .3rem; border-radius: 3px; }
th code { background: none; padding: 0; color: #1d2733; }
ul { padding-left: 1.3rem; }
li { margin: .3rem 0; }
.actions { display: flex; flex-wrap: wrap; gap: .6rem .75rem; align-items: center; margin: 1.2rem 0 0; }
.actions form { margin: 0; }
.button { font: inherit; font-weight: 600; line-height: 1.4; padding: .5rem 1.1rem; border-radius: 5px; border: 0; background: #ec7211; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
.button:hover { background: #cf620c; }
.button.secondary { background: #4a5868; }
.button.secondary:hover { background: #394553; }
.button.quiet { background: #e6eaef; color: #1d2733; }
.button.quiet:hover { background: #d6dce3; }
.button:disabled { opacity: .65; cursor: progress; }
.button:focus-visible, a:focus-visible { outline: 3px solid #0b63b6; outline-offset: 2px; }
.tag { display: inline-block; white-space: nowrap; background: #e3f1e6; color: #1e6b33; border-radius: 3px; padding: 0 .4rem; margin-right: .3rem; }
.muted { color: #5f6b78; }
.notice { margin: 1rem 0; padding: .7rem 1rem; border: 1px solid; border-left-width: 5px; border-radius: 6px; }
.notice.success { background: #e9f6ec; border-color: #2e8540; color: #174f27; }
.notice.error { background: #fdecea; border-color: #c62f25; color: #8c1d17; }
.notice.info { background: #e8f1fb; border-color: #0b63b6; color: #0b3d6e; }
.notice code { background: #fff9; }
.status { margin: 1rem 0 1.4rem; padding: 1rem 1.2rem; border-radius: 8px; background: #f5f7fa; border: 1px solid #dde3ea; }
.status p { margin: 0; font-size: 1.05rem; }
.status .actions { margin-top: .8rem; }
.status-dot { display: inline-block; width: .65rem; height: .65rem; border-radius: 50%; margin-right: .45rem; background: #8a96a3; }
.signed-in .status-dot { background: #2e8540; }
@media (max-width: 600px) {
  .bar { padding: .6rem 1rem; }
  main { margin: 0; padding: 1.2rem 1rem 1.6rem; border-radius: 0; box-shadow: none; }
  h1 { font-size: 1.35rem; }
  /* Label above value: two columns leave too little room for tokens' long values. */
  .kv tr { display: block; padding: .4rem 0; border-bottom: 1px solid #dde3ea; }
  .kv th, .kv td, .kv.claims th { display: block; width: auto; padding: .1rem 0; border: 0; white-space: normal; overflow-wrap: anywhere; }
  .users td, .users th { padding: .45rem .4rem; }
}
`

/** Every page: the same head (CSP-friendly: no inline script), header and card. */
export function layout (title: string, section: Section, body: string): string {
  const nav = NAV.map(([key, href, label]) => `<a href="${href}"${key === section ? ' aria-current="page"' : ''}>${label}</a>`).join('')
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · fastify-cognito demo</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>${STYLE}</style>
</head>
<body>
<header><div class="bar"><a class="brand" href="/">${LOGO_SVG}<span>fastify-cognito demo</span></a><nav aria-label="Pages">${nav}</nav></div></header>
<main>
${body}
</main>
</body>
</html>
`
}

export function groupTags (groups: readonly string[]): string {
  return groups.length === 0
    ? '<span class="muted">none</span>'
    : groups.map(group => `<span class="tag">${escapeHtml(group)}</span>`).join('')
}

/** "2026-12-05 07:35:07 UTC (in 15 min)": the format SESSION_SCRIPT writes after a refresh, too. */
export function formatExpiry (exp: number, now = Date.now()): string {
  const minutes = Math.round((exp * 1000 - now) / 60000)
  return `${formatTime(exp)} (${minutes >= 0 ? `in ${minutes} min` : `expired ${-minutes} min ago`})`
}

export function formatTime (epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

export function notice (kind: 'success' | 'error' | 'info', html: string, id?: string): string {
  return `<div class="notice ${kind}"${id === undefined ? '' : ` id="${id}"`} role="${kind === 'error' ? 'alert' : 'status'}">${html}</div>`
}

/** Logout is a form POST: the plugin refuses cross-site POSTs, and a GET link could be triggered by any page. */
export function logoutForm (paths: Paths, label = 'Sign out'): string {
  return `<form method="post" action="${escapeHtml(paths.logout)}"><button id="logout" class="button secondary" type="submit">${label}</button></form>`
}

export function loginHref (paths: Paths, returnTo: string): string {
  return `${paths.login}?returnTo=${encodeURIComponent(returnTo)}`
}

/** Refresh and Sign out, with the live region the script reports into. `reload`: the page shows claims that a refresh makes stale. */
export function sessionActions (paths: Paths, { reload = false } = {}): string {
  return `<div class="actions">
<button id="refresh" class="button" type="button" data-refresh-path="${escapeHtml(paths.refresh)}" data-login-path="${escapeHtml(paths.login)}"${reload ? ' data-reload' : ''}>Refresh tokens</button>
${logoutForm(paths)}
</div>
<div id="refresh-status" role="status" aria-live="polite" hidden></div>
<script src="/assets/session.js"></script>`
}
