import { escapeHtml, layout, loginHref, logoutForm, notice, type Paths } from './layout.js'

/** What a user can do about the login errors a browser actually meets; the code stays visible for the search. */
const HINTS: Record<string, string> = {
  FST_COGNITO_LOGIN_STATE_MISSING: 'This browser has no sign-in in progress. It was started in another browser or on another address of this app, took longer than allowed, or already finished (a reload of the callback page).',
  FST_COGNITO_STATE_MISMATCH: 'The answer belongs to another sign-in: an older tab, or the back button after signing in.',
  FST_COGNITO_INVALID_CALLBACK: 'The sign-in callback is incomplete. Start the sign-in from this app, not from a bookmark of the callback.',
  FST_COGNITO_AUTHORIZATION_ERROR: 'The identity provider ended the sign-in without signing you in.',
  FST_COGNITO_INVALID_GRANT: 'The sign-in code was used already or expired, as after a reload of the callback page.',
  FST_COGNITO_LOGIN_REJECTED: 'The app refused this account.',
  FST_COGNITO_CROSS_SITE_REQUEST: 'The request came from another site and was refused.'
}

/** Errors of the sign-in itself: the way out is another sign-in. */
const SIGN_IN_ERRORS = new Set(Object.keys(HINTS).filter(code => code !== 'FST_COGNITO_CROSS_SITE_REQUEST'))

const TITLES: Record<number, string> = { 400: 'Bad request', 401: 'Not signed in', 403: 'Not allowed', 404: 'Page not found', 500: 'Something went wrong' }

interface ProblemInput {
  statusCode: number
  title: string
  /** HTML of the red notice. */
  problem: string
  hint?: string
  actions: string
}

/** 403, 404, 400 and 500 share one shape: status and title, what happened in red, what to do, a way on. */
function problemPage (input: ProblemInput): string {
  return layout(`${input.statusCode} ${input.title}`, undefined, `<h1><span class="muted">${input.statusCode}</span> · ${escapeHtml(input.title)}</h1>
${notice('error', input.problem, 'problem')}
${input.hint === undefined ? '' : `<p>${input.hint}</p>`}
<div class="actions">${input.actions}</div>`)
}

const HOME_BUTTON = '<a class="button quiet" href="/">Home</a>'

export function forbiddenPage (missingGroups: readonly string[], missingScopes: readonly string[], paths: Paths): string {
  const missing = [
    ...missingGroups.map(group => `the group <code>${escapeHtml(group)}</code>`),
    ...missingScopes.map(scope => `the scope <code>${escapeHtml(scope)}</code>`)
  ]
  return problemPage({
    statusCode: 403,
    title: TITLES[403] as string,
    problem: `You are signed in, but this page needs ${missing.length === 0 ? 'more permissions' : missing.join(' and ')}.`,
    hint: 'To see it, sign out and sign in as a user who has it. Signing in again as the same user does not help: the guard answers 403, never a login loop.',
    actions: `<a class="button" href="/private">Your page</a>${logoutForm(paths)}${HOME_BUTTON}`
  })
}

export function errorPage (statusCode: number, code: string, message: string, paths: Paths): string {
  const signIn = SIGN_IN_ERRORS.has(code) || statusCode === 401
  return problemPage({
    statusCode,
    title: signIn && statusCode === 400 ? 'Sign-in failed' : TITLES[statusCode] ?? TITLES[statusCode >= 500 ? 500 : 400] as string,
    problem: `<code>${escapeHtml(code)}</code> ${escapeHtml(message)}`,
    ...(HINTS[code] === undefined ? {} : { hint: escapeHtml(HINTS[code]) }),
    actions: `${signIn ? `<a id="login" class="button" href="${escapeHtml(loginHref(paths, '/private'))}">Sign in again</a>` : ''}${HOME_BUTTON}`
  })
}

export function notFoundPage (method: string, url: string): string {
  const path = url.split('?')[0] ?? url
  return problemPage({
    statusCode: 404,
    title: TITLES[404] as string,
    problem: `There is no page at <code>${escapeHtml(path)}</code>${method === 'GET' ? '' : ` for ${escapeHtml(method)}`}.`,
    hint: 'The demo\'s pages are in the header. API clients get this answer as JSON (send <code>Accept: application/json</code>).',
    actions: '<a class="button" href="/">Home</a>'
  })
}
