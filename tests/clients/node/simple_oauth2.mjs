// simple-oauth2 (v5), unmodified, against the mock (docs/CLIENTS.md, "simple-oauth2").
//
// simple-oauth2 has no device flow and no resource requests: authorization code with PKCE S256 for the
// confidential web client (credentials in the body: authorizationMethod 'body'), refresh, GET /v1/me with
// Node's fetch and the library's token, AccessToken.expired() and refresh() once the 2 s token has run out on
// its clock, and client_credentials (Seller Back Office client). simple-oauth2 resolves tokenPath and
// authorizePath against the host's origin, so the /s/<session> prefix goes into the paths.

import { createHash, randomBytes } from 'node:crypto'
import { AuthorizationCode, ClientCredentials } from 'simple-oauth2'
import { check, Driver, PROFILE, SCOPE, SELLER_CLIENT, sleep, WEB_CLIENT } from './common.mjs'

const d = new Driver('simple-oauth2', 'simple-oauth2')
const host = new URL(d.base).origin
const prefix = `${new URL(d.base).pathname.replace(/\/$/, '')}/s/${d.session}`
const tokenAuth = { tokenHost: host, tokenPath: `${prefix}/auth/o2/token` }

await d.step('session settings: strict_lwa, auto_consent', () => d.settings({ strict_lwa: true, auto_consent: true }))

const webClient = await d.client(WEB_CLIENT)
const redirectUri = webClient.return_urls[0]
const web = new AuthorizationCode({
  client: { id: WEB_CLIENT, secret: webClient.client_secret },
  auth: { ...tokenAuth, authorizePath: `${prefix}/ap/oa` },
  options: { authorizationMethod: 'body' }
})
let token
await d.step('authorization code with PKCE S256: authorizeURL, /ap/oa (auto_consent), getToken', async () => {
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(16).toString('base64url')
  const url = web.authorizeURL({
    redirect_uri: redirectUri, scope: SCOPE, state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256'
  })
  const location = new URL(await d.browse(url))
  check(location.searchParams.get('state') === state, `state ${location.searchParams.get('state')}`)
  token = await web.getToken({ code: location.searchParams.get('code'), redirect_uri: redirectUri, code_verifier: verifier })
  check(token.token.access_token.startsWith('Atza|'), JSON.stringify(token.token))
})

const me = (step) => d.step(step, async () => {
  const answer = await d.expect(await fetch(`${d.url}/v1/me`, {
    headers: { authorization: `Bearer ${token.token.access_token}`, 'x-api-key': PROFILE }
  }))
  return `user ${(await answer.json()).data.user.id}`
})
await me("GET /v1/me (fetch with the library's access token)")

await d.step('AccessToken.refresh(), with access_token_lifetime_seconds 2', async () => {
  await d.settings({ access_token_lifetime_seconds: 2 })
  const old = token.token
  token = await token.refresh()
  check(token.token.expires_in === 2, `expires_in ${token.token.expires_in}`)
  check(token.token.refresh_token === old.refresh_token, 'LWA returns the same refresh token')
})
await sleep(2500)
await d.step('after 2.5 s AccessToken.expired() is true: refresh()', async () => {
  check(token.expired(), 'expired() is false')
  const old = token.token.access_token
  token = await token.refresh()
  check(!token.expired() && token.token.access_token !== old, 'no fresh token')
})
await me('GET /v1/me with the refreshed token')

await d.step('ClientCredentials.getToken (Seller Back Office client)', async () => {
  const seller = await d.client(SELLER_CLIENT)
  const app = new ClientCredentials({ client: { id: SELLER_CLIENT, secret: seller.client_secret }, auth: tokenAuth })
  const appToken = await app.getToken({ scope: 'sellingpartnerapi::notifications' })
  check(appToken.token.access_token.startsWith('Atc|'), JSON.stringify(appToken.token))
})

await d.step('verdict rule lwa-no-leniency: pass', async () => {
  const [status, message] = await d.verdict('lwa-no-leniency')
  check(status === 'pass', `${status}: ${message}`)
})
