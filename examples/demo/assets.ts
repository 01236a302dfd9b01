/** The demo's logo: a shield with a check mark. Inline in the header, and served as /favicon.svg. */
export const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" aria-hidden="true">' +
  '<rect width="32" height="32" rx="7" fill="#ec7211"/>' +
  '<path d="M16 5.5l8.5 3.2v6.1c0 5.4-3.6 9.9-8.5 11.7-4.9-1.8-8.5-6.3-8.5-11.7V8.7z" fill="#fff"/>' +
  '<path d="M12.2 15.9l2.7 2.7 5-5.2" fill="none" stroke="#ec7211" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>' +
  '</svg>'

/**
 * The Refresh button of /private and /token, served as /assets/session.js so the pages' CSP needs no
 * 'unsafe-inline' for scripts. It builds its messages with DOM nodes and textContent only: the error message comes
 * from the server, and nothing from a response is parsed as HTML. Times are shown in UTC, as the server renders
 * them (formatExpiry in layout.ts writes the same format).
 */
export const SESSION_SCRIPT = `'use strict'
const button = document.getElementById('refresh')
const status = document.getElementById('refresh-status')

function formatExpiry (exp) {
  const minutes = Math.round((exp * 1000 - Date.now()) / 60000)
  const when = new Date(exp * 1000).toISOString().slice(0, 19).replace('T', ' ') + ' UTC'
  return when + (minutes >= 0 ? ' (in ' + minutes + ' min)' : ' (expired ' + -minutes + ' min ago)')
}

function element (tag, text, attributes) {
  const node = document.createElement(tag)
  node.textContent = text
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value)
  return node
}

function show (kind, nodes) {
  status.className = 'notice ' + kind
  status.replaceChildren(...nodes)
  status.hidden = false
}

async function failure (response) {
  let code = 'HTTP_' + response.status
  let message = response.statusText
  try {
    const body = await response.json()
    if (typeof body.code === 'string') code = body.code
    if (typeof body.message === 'string') message = body.message.replace(/\\.$/, '')
  } catch {}
  const signIn = button.dataset.loginPath + '?returnTo=' + encodeURIComponent(location.pathname)
  show('error', [
    element('strong', 'Refresh failed: '), element('code', code), ' (' + response.status + ') ' + message + '. ',
    element('a', 'Sign in again', { href: signIn })
  ])
}

button.addEventListener('click', async () => {
  button.disabled = true
  button.textContent = 'Refreshing…'
  try {
    const response = await fetch(button.dataset.refreshPath, { method: 'POST', headers: { accept: 'application/json' } })
    if (!response.ok) return await failure(response)
    const { expiresAt } = await response.json()
    document.getElementById('expiry').textContent = formatExpiry(expiresAt)
    const nodes = [element('strong', 'Tokens refreshed'), ' at ' + new Date().toISOString().slice(11, 19) + ' UTC.']
    if (button.dataset.reload !== undefined) nodes.push(' ', element('a', 'Reload to see the new claims', { href: location.pathname }))
    show('success', nodes)
  } catch (error) {
    show('error', [element('strong', 'Refresh failed: '), 'the server could not be reached (' + error.message + ').'])
  } finally {
    button.disabled = false
    button.textContent = 'Refresh tokens'
  }
})
`
