"""Authlib's requests OAuth2Session, unmodified, against the mock (docs/CLIENTS.md, "Authlib").

Device flow for the confidential TV client (code pair, pending poll, admin approval, tokens; HTTP Basic on the
poll and the refresh), authorization code with PKCE S256 for the confidential web client (HTTP Basic), refresh, GET /v1/me through the session, and an automatic refresh when
a 2 s access token has expired on authlib's own clock. The session runs with strict_lwa: nothing here needs
a leniency of the mock.
"""

import time

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client import OAuthError

from common import PROFILE, SCOPE, TV_CLIENT, WEB_CLIENT, Driver, Failure, check

d = Driver("authlib", "authlib")
TOKEN_URL = f"{d.url}/auth/o2/token"

with d.step("session settings: strict_lwa, auto_consent, device_interval_seconds 1"):
    d.settings(strict_lwa=True, auto_consent=True, device_interval_seconds=1)

# --- Device flow: authlib has no device-authorization helper, so the code pair is a POST through the session
# (withhold_token=True: there is no token yet) with client_id in the body as LWA documents it. The poll is
# fetch_token with LWA's bare grant_type, which authlib sends as given, with the secret as HTTP Basic.
tv = d.client(TV_CLIENT)
device = OAuth2Session(client_id=TV_CLIENT, client_secret=tv["client_secret"], scope=SCOPE)
device.hooks["response"].append(d.record)

with d.step("code pair: POST /auth/O2/create/codepair with response_type=device_code") as note:
    pair = d.expect(device.post(f"{d.url}/auth/O2/create/codepair",
                                data={"response_type": "device_code", "client_id": TV_CLIENT, "scope": SCOPE},
                                withhold_token=True)).json()
    note.append(f"user_code {pair['user_code']}, interval {pair['interval']}")


def poll():
    return device.fetch_token(TOKEN_URL, grant_type="device_code", device_code=pair["device_code"],
                              user_code=pair["user_code"])


with d.step("poll before approval: authorization_pending"):
    try:
        poll()
        raise Failure("tokens before the customer approved")
    except OAuthError as e:
        check(e.error == "authorization_pending", f"expected authorization_pending, got {e.error}")

with d.step("approve through POST /__admin/device/approve"):
    d.approve(pair["user_code"])

time.sleep(pair["interval"])
with d.step("poll after approval (grant_type=device_code): tokens"):
    token = poll()
    check(token["access_token"].startswith("Atza|") and token["refresh_token"].startswith("Atzr|"), str(token))

with d.step("refresh the device token (HTTP Basic)"):
    refreshed = device.refresh_token(TOKEN_URL)
    check(refreshed["access_token"] != token["access_token"], "the same access token came back")

# --- Authorization code with PKCE, confidential client: authlib sends its secret with HTTP Basic.
web_client = d.client(WEB_CLIENT)
updates = []
web = OAuth2Session(WEB_CLIENT, web_client["client_secret"], scope=SCOPE,
                    redirect_uri=web_client["return_urls"][0], code_challenge_method="S256",
                    token_endpoint=TOKEN_URL, leeway=0,
                    update_token=lambda token, refresh_token=None, access_token=None: updates.append(token))
web.hooks["response"].append(d.record)

with d.step("authorization code with PKCE S256: /ap/oa (auto_consent) and code exchange"):
    verifier = generate_token(48)
    url, state = web.create_authorization_url(f"{d.url}/ap/oa", code_verifier=verifier)
    location = d.browse(url)
    token = web.fetch_token(authorization_response=location, code_verifier=verifier)
    check(token["access_token"].startswith("Atza|"), str(token))


def me(step):
    with d.step(step) as note:
        answer = d.expect(web.get(f"{d.url}/v1/me", headers={"x-api-key": PROFILE}))
        note.append(f"user {answer.json()['data']['user']['id']}")


me("GET /v1/me through OAuth2Session")

with d.step("refresh (HTTP Basic), with access_token_lifetime_seconds 2"):
    d.settings(access_token_lifetime_seconds=2)
    old = web.token
    token = web.refresh_token(TOKEN_URL)
    check(token["expires_in"] == 2, f"expires_in {token['expires_in']}")
    check(token["refresh_token"] == old["refresh_token"], "LWA returns the same refresh token")

time.sleep(2.5)
before, calls = web.token["access_token"], len(updates)
me("GET /v1/me after the 2 s token expired: OAuth2Session refreshes by itself")
with d.step("the automatic refresh happened"):
    check(len(updates) == calls + 1 and web.token["access_token"] != before, f"{len(updates) - calls} update_token calls")

with d.step("verdict rule lwa-no-leniency: pass"):
    status, message = d.verdict("lwa-no-leniency")
    check(status == "pass", f"{status}: {message}")
