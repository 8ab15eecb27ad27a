// What every Node driver shares: the mock's address, the fixture clients, one line per step, and a failure
// that names the library, the step and the mock's answer (status and body). Calls to the mock's admin API and
// the "browser" that follows /ap/oa's redirect use Node's own fetch, never the OAuth library under test.

// The music-enabled fixture profile and its clients (README "Fixtures"); secrets and return URLs are read
// from GET /__admin/security-profiles.
export const PROFILE = 'amzn1.application.30877432d1026706d7e805da846a32c3'
export const WEB_CLIENT = 'amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217' // confidential
export const PUBLIC_CLIENT = 'amzn1.application-oa2-client.21a278f64f7fd633dbdde131ca3766e4' // public, PKCE
export const DEVICE_CLIENT = 'amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696' // code-based linking
export const SELLER_CLIENT = 'amzn1.application-oa2-client.e32684b27b95e909348334896a68f812' // client_credentials
// GET /v1/me needs music::profile:read (or music::profile), docs/ROUTES.md.
export const SCOPE = 'profile music::profile:read'

export class Failure extends Error {
  constructor (message, answer) {
    super(message)
    this.name = 'Failure'
    this.answer = answer
  }
}

export function check (condition, message) {
  if (!condition) throw new Failure(message)
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Command line: `node driver.mjs BASE_URL [SESSION]`, or AMM_URL / AMM_SESSION in the environment.
export class Driver {
  constructor (library, session) {
    this.library = library
    this.base = (process.argv[2] ?? process.env.AMM_URL ?? '').replace(/\/+$/, '')
    if (!this.base) {
      console.error(`usage: ${process.argv[1]} BASE_URL [SESSION] (or AMM_URL, AMM_SESSION)`)
      process.exit(2)
    }
    this.session = process.argv[3] ?? process.env.AMM_SESSION ?? session
    this.url = `${this.base}/s/${this.session}` // every route of this driver's own mock session
    this.last = null // the mock's last answer in the current step: [status, body, headers]
    // A fetch that keeps the mock's answer, for libraries that take a custom fetch.
    this.fetch = async (url, options) => this.record(await fetch(url, options))
  }

  // Runs one step; prints `ok` and the step (and the string it returns), or `FAIL`, the library, the step and the
  // mock's answer, and exits 1.
  async step (name, body) {
    this.last = null
    let note
    try {
      note = await body()
    } catch (e) {
      // simple-oauth2 (wreck) errors carry the answer as Boom data.
      const boom = e?.output?.statusCode && e?.data?.payload !== undefined
        ? [e.output.statusCode, String(e.data.payload).slice(0, 600)]
        : null
      const answer = e?.answer ?? boom ?? this.last
      const said = answer ? `; the mock answered ${answer[0]} ${answer[1]}` : ''
      console.log(`FAIL ${this.library}: step "${name}": ${e?.name}: ${e?.message}${said}`)
      process.exit(1)
    }
    console.log(`ok   ${this.library}: ${name}${typeof note === 'string' ? ` (${note})` : ''}`)
  }

  async record (response) {
    this.last = [response.status, (await response.clone().text()).slice(0, 600), response.headers]
    return response
  }

  async expect (response, status = 200) {
    await this.record(response)
    if (response.status !== status) throw new Failure(`expected ${status}`, this.last)
    return response
  }

  // An admin call in this driver's session, or in the session whose URL is `url`.
  async admin (method, path, body, url) {
    const response = await fetch(`${url ?? this.url}/__admin${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    if (!response.ok) throw new Failure(`admin ${method} ${path}`, [response.status, text])
    return text ? JSON.parse(text) : null
  }

  settings (values, url) {
    return this.admin('PUT', '/settings', values, url)
  }

  async approve (userCode, url) {
    const answer = await this.admin('POST', '/device/approve', { user_code: userCode }, url)
    check(answer.status === 'approved', `approval refused: ${JSON.stringify(answer)}`)
  }

  // The fixture client (id, secret, return URLs) as the admin API lists it.
  async client (clientId) {
    for (const profile of await this.admin('GET', '/security-profiles')) {
      const found = profile.clients.find((c) => c.client_id === clientId)
      if (found) return found
    }
    throw new Failure(`no fixture client ${clientId}`)
  }

  // The browser at /ap/oa under auto_consent: answers the redirect's Location without following it.
  async browse (url) {
    const response = await fetch(url, { redirect: 'manual' })
    if (response.status !== 302) {
      throw new Failure('/ap/oa did not redirect', [response.status, (await response.text()).slice(0, 600)])
    }
    return response.headers.get('location')
  }

  // The status (pass, fail, not_exercised) and message of one client rule over the session's journal.
  async verdict (rule, url) {
    const found = (await this.admin('GET', '/verdict', undefined, url)).rules.find((r) => r.id === rule)
    if (!found) throw new Failure(`no verdict rule ${rule}`)
    return [found.status, found.message ?? '']
  }
}
