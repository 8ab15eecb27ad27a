"""requests-oauthlib's OAuth2Session, unmodified, against the mock (docs/CLIENTS.md, "requests-oauthlib").

Authorization code with PKCE S256 for the public client (include_client_id=True: client_id in the body, as LWA
documents it, instead of the library's default HTTP Basic with an empty password), refresh, GET
/v1/me through the session, the session's own refresh (auto_refresh_url) once a 2 s token has expired on its
clock, and the device flow through OAuth2Session with oauthlib's DeviceClient, where an access-token-request
compliance hook turns RFC 8628's URN into LWA's grant_type=device_code. The session runs with strict_lwa.
"""

import os
import time

from oauthlib.oauth2 import DeviceClient, OAuth2Error
from requests_oauthlib import OAuth2Session

from common import DEVICE_CLIENT, PROFILE, PUBLIC_CLIENT, SCOPE, Driver, Failure, check

d = Driver("requests-oauthlib", "requests-oauthlib")
# oauthlib refuses http:// URLs, the mock's and the loopback return URL's (also under `serve --tls`).
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
TOKEN_URL = f"{d.url}/auth/o2/token"

with d.step("session settings: strict_lwa, auto_consent, device_interval_seconds 1"):
    d.settings(strict_lwa=True, auto_consent=True, device_interval_seconds=1)

# --- Authorization code with PKCE, public client.
updates = []
web = OAuth2Session(PUBLIC_CLIENT, scope=SCOPE.split(), redirect_uri=d.client(PUBLIC_CLIENT)["return_urls"][0],
                    pkce="S256", auto_refresh_url=TOKEN_URL, auto_refresh_kwargs={"client_id": PUBLIC_CLIENT},
                    token_updater=updates.append)
web.hooks["response"].append(d.record)

with d.step("authorization code with PKCE S256: /ap/oa (auto_consent) and code exchange"):
    url, state = web.authorization_url(f"{d.url}/ap/oa")
    location = d.browse(url)
    token = web.fetch_token(TOKEN_URL, authorization_response=location, include_client_id=True)
    check(token["access_token"].startswith("Atza|") and token["refresh_token"].startswith("Atzr|"), str(token))


def me(step):
    with d.step(step) as note:
        answer = d.expect(web.get(f"{d.url}/v1/me", headers={"x-api-key": PROFILE}))
        note.append(f"user {answer.json()['data']['user']['id']}")


me("GET /v1/me through OAuth2Session")

with d.step("refresh (client_id, no secret), with access_token_lifetime_seconds 2"):
    d.settings(access_token_lifetime_seconds=2)
    old = web.token
    token = web.refresh_token(TOKEN_URL)
    check(token["expires_in"] == 2, f"expires_in {token['expires_in']}")
    check(token["access_token"] != old["access_token"], "the same access token came back")

time.sleep(2.5)
before = web.token["access_token"]
me("GET /v1/me after the 2 s token expired: OAuth2Session refreshes by itself (auto_refresh_url)")
with d.step("the automatic refresh happened"):
    check(len(updates) == 1 and web.token["access_token"] != before, f"{len(updates)} token_updater calls")


# --- Device flow: OAuth2Session over oauthlib's DeviceClient.
def lwa_device_grant(url, headers, request_kwargs):
    """Compliance hook: LWA's device poll uses grant_type=device_code, not RFC 8628's URN (lwa.md 4.4)."""
    data = request_kwargs.get("data", {})
    if data.get("grant_type") == DeviceClient.grant_type:
        data["grant_type"] = "device_code"
    return url, headers, request_kwargs


device = OAuth2Session(client=DeviceClient(DEVICE_CLIENT), scope=SCOPE.split())
device.register_compliance_hook("access_token_request", lwa_device_grant)
device.hooks["response"].append(d.record)

with d.step("code pair: POST /auth/O2/create/codepair with response_type=device_code") as note:
    pair = d.expect(device.post(f"{d.url}/auth/O2/create/codepair",
                                data={"response_type": "device_code", "client_id": DEVICE_CLIENT, "scope": SCOPE})).json()
    note.append(f"user_code {pair['user_code']}")


def poll():
    return device.fetch_token(TOKEN_URL, device_code=pair["device_code"], user_code=pair["user_code"],
                              include_client_id=True)


with d.step("poll before approval: authorization_pending"):
    try:
        poll()
        raise Failure("tokens before the customer approved")
    except OAuth2Error as e:
        check(e.error == "authorization_pending", f"expected authorization_pending, got {e.error}")

with d.step("approve through POST /__admin/device/approve"):
    d.approve(pair["user_code"])

time.sleep(pair["interval"])
with d.step("poll after approval (grant_type=device_code via the compliance hook): tokens"):
    token = poll()
    check(token["access_token"].startswith("Atza|"), str(token))

with d.step("verdict rule lwa-no-leniency: pass"):
    status, message = d.verdict("lwa-no-leniency")
    check(status == "pass", f"{status}: {message}")
