// openid-client (v6), unmodified, against the mock (docs/CLIENTS.md, "openid-client").
//
// LWA publishes no discovery document, so the Configuration gets the server metadata by hand. Device flow with
// LWA's grant_type=device_code through genericGrantRequest (strict_lwa session), authorization code with PKCE
// S256 for the public client, refresh, GET /v1/me through fetchProtectedResource, and a refresh once
// expiresIn() says the 2 s token has run out on openid-client's clock (the library has no automatic refresh).
// Then the library's own device helper, pollDeviceAuthorizationGrant, which always sends RFC 8628's URN, in a
// lenient session of its own (`<session>-urn`): it gets its tokens, the x-amm-hint header, and a failed
// lwa-no-leniency verdict rule.

import * as client from 'openid-client'
import { check, DEVICE_CLIENT, Driver, Failure, PROFILE, PUBLIC_CLIENT, SCOPE, sleep } from './common.mjs'

const d = new Driver('openid-client', 'openid-client')

function configuration (url, clientId) {
  const server = {
    issuer: 'https://www.amazon.com',
    authorization_endpoint: `${url}/ap/oa`,
    token_endpoint: `${url}/auth/o2/token`,
    device_authorization_endpoint: `${url}/auth/O2/create/codepair`
  }
  const config = new client.Configuration(server, clientId, undefined, client.None()) // public: no secret
  if (url.startsWith('http://')) client.allowInsecureRequests(config) // openid-client refuses http:// otherwise
  config[client.customFetch] = d.fetch // keeps the mock's answers for failure messages
  return config
}

await d.step('session settings: strict_lwa, auto_consent, device_interval_seconds 1', () =>
  d.settings({ strict_lwa: true, auto_consent: true, device_interval_seconds: 1 }))

// --- Device flow, LWA's grant.
const device = configuration(d.url, DEVICE_CLIENT)
let pair
await d.step('code pair: initiateDeviceAuthorization with response_type=device_code as a parameter', async () => {
  pair = await client.initiateDeviceAuthorization(device, { scope: SCOPE, response_type: 'device_code' })
  return `user_code ${pair.user_code}, interval ${pair.interval}`
})
const poll = () => client.genericGrantRequest(device, 'device_code',
  { device_code: pair.device_code, user_code: pair.user_code })
await d.step('poll before approval (genericGrantRequest): authorization_pending', async () => {
  try {
    await poll()
  } catch (e) {
    check(e.error === 'authorization_pending', `expected authorization_pending, got ${e.error ?? e}`)
    return
  }
  throw new Failure('tokens before the customer approved')
})
await d.step('approve through POST /__admin/device/approve', () => d.approve(pair.user_code))
await sleep(pair.interval * 1000)
await d.step('poll after approval (grant_type=device_code): tokens', async () => {
  const tokens = await poll()
  check(tokens.access_token.startsWith('Atza|') && tokens.refresh_token.startsWith('Atzr|'), JSON.stringify(tokens))
})

// --- Authorization code with PKCE, public client.
const web = configuration(d.url, PUBLIC_CLIENT)
const redirectUri = (await d.client(PUBLIC_CLIENT)).return_urls[0]
let tokens
await d.step('authorization code with PKCE S256: /ap/oa (auto_consent) and authorizationCodeGrant', async () => {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(web, {
    redirect_uri: redirectUri, scope: SCOPE, state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256'
  })
  const location = await d.browse(url)
  tokens = await client.authorizationCodeGrant(web, new URL(location), { pkceCodeVerifier: verifier, expectedState: state })
  check(tokens.access_token.startsWith('Atza|'), JSON.stringify(tokens))
})

const me = (step) => d.step(step, async () => {
  const answer = await d.expect(await client.fetchProtectedResource(web, tokens.access_token,
    new URL(`${d.url}/v1/me`), 'GET', undefined, new Headers({ 'x-api-key': PROFILE })))
  return `user ${(await answer.json()).data.user.id}`
})
await me('GET /v1/me through fetchProtectedResource')

await d.step('refreshTokenGrant, with access_token_lifetime_seconds 2', async () => {
  await d.settings({ access_token_lifetime_seconds: 2 })
  const old = tokens
  tokens = await client.refreshTokenGrant(web, old.refresh_token)
  check(tokens.expires_in === 2, `expires_in ${tokens.expires_in}`)
  check(tokens.refresh_token === old.refresh_token, 'LWA returns the same refresh token')
})
await sleep(2500)
await d.step('after 2.5 s expiresIn() is 0: refreshTokenGrant', async () => {
  check(tokens.expiresIn() === 0, `expiresIn() ${tokens.expiresIn()}`)
  const old = tokens.access_token
  tokens = await client.refreshTokenGrant(web, tokens.refresh_token)
  check(tokens.access_token !== old, 'the same access token came back')
})
await me('GET /v1/me with the refreshed token')

await d.step('verdict rule lwa-no-leniency: pass', async () => {
  const [status, message] = await d.verdict('lwa-no-leniency')
  check(status === 'pass', `${status}: ${message}`)
})

// --- The library's device helper (RFC 8628 URN), in a lenient session of its own.
const urnUrl = `${d.base}/s/${d.session}-urn`
await d.step(`session ${d.session}-urn: device_interval_seconds 1, lenient (strict_lwa off)`, () =>
  d.settings({ device_interval_seconds: 1 }, urnUrl))
const urn = configuration(urnUrl, DEVICE_CLIENT)
await d.step('pollDeviceAuthorizationGrant (URN): pending, admin approval, tokens with x-amm-hint', async () => {
  const urnPair = await client.initiateDeviceAuthorization(urn, { scope: SCOPE, response_type: 'device_code' })
  const polling = client.pollDeviceAuthorizationGrant(urn, urnPair)
  polling.catch(() => {}) // awaited below
  for (let i = 0; ; i++) { // approve once the journal shows a pending poll
    const journal = await d.admin('GET', '/requests', undefined, urnUrl)
    if (journal.some((e) => e.error === 'authorization_pending')) break
    check(i < 100, 'no pending poll within 10 s')
    await sleep(100)
  }
  await d.approve(urnPair.user_code, urnUrl)
  const urnTokens = await polling
  check(urnTokens.access_token.startsWith('Atza|'), JSON.stringify(urnTokens))
  const hint = d.last[2].get('x-amm-hint') ?? ''
  check(hint.includes('grant_type=device_code'), `x-amm-hint: ${hint}`)
})
await d.step('lwa-no-leniency fails in that session, as documented', async () => {
  const [status] = await d.verdict('lwa-no-leniency', urnUrl)
  check(status === 'fail', `lwa-no-leniency: ${status}`)
})
