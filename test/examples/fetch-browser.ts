import assert from 'node:assert/strict'

export interface Page {
  status: number
  url: string
  body: string
  headers: Headers
}

/**
 * Just enough of a browser over fetch: cookies per host (not per port, as browsers keep them), redirects
 * followed by hand so every hop is seen, and the Origin / Sec-Fetch-Site headers a browser sends with a form.
 */
export class FetchBrowser {
  readonly #cookies = new Map<string, Map<string, string>>()

  #jar (url: URL): Map<string, string> {
    let jar = this.#cookies.get(url.hostname)
    if (jar === undefined) {
      jar = new Map()
      this.#cookies.set(url.hostname, jar)
    }
    return jar
  }

  #store (url: URL, response: Response): void {
    const jar = this.#jar(url)
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1).trim()
      const gone = value === '' || attributes.some(attribute => /^\s*max-age=0\s*$/i.test(attribute) || /^\s*expires=Thu, 01 Jan 1970/i.test(attribute))
      if (gone) jar.delete(name)
      else jar.set(name, value)
    }
  }

  cookieNames (host: string): string[] {
    return [...(this.#cookies.get(host)?.keys() ?? [])]
  }

  async request (method: string, start: string, options: { form?: Record<string, string>, origin?: string, accept?: string } = {}): Promise<Page> {
    let url = new URL(start)
    let init: RequestInit = { method }
    if (options.form !== undefined) {
      init.body = new URLSearchParams(options.form).toString()
      init.headers = { 'content-type': 'application/x-www-form-urlencoded' }
    }
    for (let hop = 0; hop < 10; hop++) {
      const headers: Record<string, string> = {
        ...(init.headers as Record<string, string> | undefined),
        accept: options.accept ?? 'text/html,application/xhtml+xml,*/*;q=0.8',
        cookie: [...this.#jar(url)].map(([name, value]) => `${name}=${value}`).join('; ')
      }
      if (init.method === 'POST') {
        const origin = options.origin ?? url.origin
        headers.origin = origin
        headers['sec-fetch-site'] = origin === url.origin ? 'same-origin' : 'cross-site'
      }
      const response = await fetch(url, { ...init, headers, redirect: 'manual' })
      this.#store(url, response)
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || location === null) {
        return { status: response.status, url: url.href, body: await response.text(), headers: response.headers }
      }
      url = new URL(location, url)
      // 302 and 303 turn a POST into a GET, as browsers do.
      init = { method: 'GET' }
    }
    throw new Error(`too many redirects from ${start}`)
  }

  async get (url: string, accept?: string): Promise<Page> {
    return this.request('GET', url, accept === undefined ? {} : { accept })
  }

  /** Submits the IdP's sign-in form found in `page`, as a user would. */
  async signIn (page: Page, username: string, password: string): Promise<Page> {
    assert.match(page.body, /id="signInFormUsername"/, `expected the sign-in form, got ${page.status} ${page.url}`)
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1]
    assert.ok(action !== undefined)
    const target = new URL(action.replaceAll('&amp;', '&'), page.url)
    return this.request('POST', target.href, { form: { username, password } })
  }
}
