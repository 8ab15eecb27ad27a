"""oauthlib's DeviceClient (RFC 8628), unmodified, against the mock (docs/CLIENTS.md, "oauthlib").

oauthlib builds requests and parses answers; the HTTP is a plain requests.Session. Device flow (code pair,
pending poll, admin approval, tokens), refresh, GET /v1/me with the token oauthlib's add_token puts on the
request, and the refresh oauthlib asks for (TokenExpiredError) once a 2 s token has expired on its own clock.

DeviceClient sends the RFC 8628 URN as grant_type (its class attribute `grant_type`). The main session runs
with strict_lwa and sets the attribute to LWA's `device_code` on the instance; a second session, `<session>-urn`,
runs the library's default to show the leniency it needs: the mock's x-amm-hint header and a failed
lwa-no-leniency verdict rule.
"""

import os
import time

import requests
from oauthlib.oauth2 import DeviceClient, OAuth2Error, TokenExpiredError

from common import DEVICE_CLIENT, PROFILE, SCOPE, Driver, Failure, check

d = Driver("oauthlib", "oauthlib")
if d.base.startswith("http://"):
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # oauthlib refuses http:// URLs otherwise
http = requests.Session()
http.hooks["response"].append(d.record)
FORM = {"content-type": "application/x-www-form-urlencoded"}


def link(url, client, strict):
    """The device flow in the mock session at `url`; answers the last poll's HTTP response."""
    with d.step(f"code pair ({'strict' if strict else 'library default'}): response_type=device_code as an "
                "extra parameter of prepare_request_uri") as note:
        # The parameters go in the query string of an empty POST, which LWA merges with the body.
        uri = client.prepare_request_uri(f"{url}/auth/O2/create/codepair", scope=SCOPE, response_type="device_code")
        pair = d.expect(http.post(uri)).json()
        note.append(f"user_code {pair['user_code']}")

    def poll():
        body = client.prepare_request_body(pair["device_code"], include_client_id=True, user_code=pair["user_code"])
        answer = http.post(f"{url}/auth/o2/token", data=body, headers=FORM)
        client.parse_request_body_response(answer.text)
        return answer

    with d.step("poll before approval: authorization_pending"):
        try:
            poll()
            raise Failure("tokens before the customer approved")
        except OAuth2Error as e:
            check(e.error == "authorization_pending", f"expected authorization_pending, got {e.error}")
    with d.step("approve through POST /__admin/device/approve"):
        d.approve(pair["user_code"], url)
    time.sleep(pair["interval"])
    with d.step(f"poll after approval (grant_type={client.grant_type}): tokens"):
        answer = poll()
        check(client.access_token.startswith("Atza|") and client.refresh_token.startswith("Atzr|"), answer.text)
    return answer


with d.step("session settings: strict_lwa, device_interval_seconds 1"):
    d.settings(strict_lwa=True, device_interval_seconds=1)

client = DeviceClient(DEVICE_CLIENT)
client.grant_type = "device_code"  # LWA's grant (lwa.md 4.4); the class default is the RFC 8628 URN
link(d.url, client, strict=True)


def refresh():
    body = client.prepare_refresh_body(client_id=DEVICE_CLIENT)
    answer = d.expect(http.post(f"{d.url}/auth/o2/token", data=body, headers=FORM))
    return client.parse_request_body_response(answer.text)


def me():
    uri, headers, _ = client.add_token(f"{d.url}/v1/me", http_method="GET", headers={"x-api-key": PROFILE})
    return d.expect(http.get(uri, headers=headers)).json()["data"]["user"]["id"]


with d.step("refresh (public client: client_id, no secret)"):
    old = client.access_token
    refresh()
    check(client.access_token != old, "the same access token came back")

with d.step("GET /v1/me with DeviceClient.add_token") as note:
    note.append(f"user {me()}")

with d.step("refresh with access_token_lifetime_seconds 2"):
    d.settings(access_token_lifetime_seconds=2)
    token = refresh()
    check(token["expires_in"] == 2, f"expires_in {token['expires_in']}")

time.sleep(2.5)
with d.step("GET /v1/me after the 2 s token expired: add_token raises TokenExpiredError, refresh, retry") as note:
    try:
        me()
        raise Failure("add_token did not notice the expired token")
    except TokenExpiredError:
        refresh()
    note.append(f"user {me()}")

with d.step("verdict rule lwa-no-leniency: pass"):
    status, message = d.verdict("lwa-no-leniency")
    check(status == "pass", f"{status}: {message}")

# --- The library's default grant_type, in a lenient session of its own.
urn_url = f"{d.base}/s/{d.session}-urn"
with d.step(f"session {d.session}-urn: device_interval_seconds 1, lenient (strict_lwa off)"):
    d.settings(urn_url, device_interval_seconds=1)
answer = link(urn_url, DeviceClient(DEVICE_CLIENT), strict=False)
with d.step("the URN poll carries x-amm-hint, and lwa-no-leniency fails in that session") as note:
    check("grant_type=device_code" in answer.headers.get("x-amm-hint", ""), f"hint: {answer.headers.get('x-amm-hint')}")
    status, _ = d.verdict("lwa-no-leniency", urn_url)
    check(status == "fail", f"lwa-no-leniency: {status}")
    note.append("lwa-no-leniency: fail, as documented")
