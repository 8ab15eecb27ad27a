"""The Alexa Skills Kit SDK's LwaClient (ask_sdk_model.services.lwa.LwaClient), unmodified, against the mock
(docs/CLIENTS.md, "ask-sdk LwaClient").

LwaClient knows two grants: refresh_token (a stored refresh token, confidential client) and
client_credentials. It cannot run the authorization code or the device flow, so this driver gets its refresh
token with one plain code exchange first. Then: LwaClient refreshes, GET /v1/me goes through the SDK's
ApiClient, LwaClient's token cache is seen to hold the token and to refresh it once the token is within 60 s
of its expiry on LwaClient's own clock (lifetime 62 s, then 2.5 s of sleep), and client_credentials gives an
Atc| app token. The session runs with strict_lwa.

ask-sdk-core's DefaultApiClient refuses http:// URLs ("Requests against non-HTTPS endpoints are not
allowed"); for the plain-HTTP mock the driver gives LwaClient an ApiClient of its own (the SDK's public
interface, a few lines over requests). Against `serve --tls` it uses DefaultApiClient itself (trust the CA
with REQUESTS_CA_BUNDLE).
"""

import json
import time
import urllib.parse

import requests
from ask_sdk_core.api_client import DefaultApiClient
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse, ApiConfiguration
from ask_sdk_model.services.authentication_configuration import AuthenticationConfiguration
from ask_sdk_model.services.lwa import LwaClient

from common import PROFILE, SCOPE, WEB_CLIENT, Driver, check

SELLER_CLIENT = "amzn1.application-oa2-client.e32684b27b95e909348334896a68f812"  # allowed client_credentials

d = Driver("ask-sdk LwaClient", "ask-sdk")


class HttpApiClient(ApiClient):
    """The SDK's ApiClient interface over requests, allowing http:// (DefaultApiClient does not)."""

    def invoke(self, request):
        answer = requests.request(request.method, request.url, headers=dict(request.headers or []),
                                  data=request.body)
        d.record(answer)
        return ApiClientResponse(headers=list(answer.headers.items()), status_code=answer.status_code,
                                 body=answer.text)


api_client = DefaultApiClient() if d.base.startswith("https://") else HttpApiClient()
config = ApiConfiguration(serializer=DefaultSerializer(), api_client=api_client, api_endpoint=d.url)

with d.step("session settings: strict_lwa, auto_consent"):
    d.settings(strict_lwa=True, auto_consent=True)

with d.step("setup without LwaClient (it has no code grant): /ap/oa and one code exchange") as note:
    web = d.client(WEB_CLIENT)
    location = d.browse(f"{d.url}/ap/oa?" + urllib.parse.urlencode(
        {"client_id": WEB_CLIENT, "scope": SCOPE, "response_type": "code", "redirect_uri": web["return_urls"][0]}))
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    tokens = d.expect(requests.post(f"{d.url}/auth/o2/token", auth=(WEB_CLIENT, web["client_secret"]), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": web["return_urls"][0]})).json()
    note.append("refresh token " + tokens["refresh_token"][:9] + "…")

with d.step("access_token_lifetime_seconds 62 (LwaClient refreshes 60 s before expiry)"):
    d.settings(access_token_lifetime_seconds=62)

lwa = LwaClient(config, AuthenticationConfiguration(client_id=WEB_CLIENT, client_secret=web["client_secret"],
                                                    refresh_token=tokens["refresh_token"]),
                grant_type="refresh_token")

with d.step("LwaClient.get_access_token_from_refresh_token: refresh_token grant"):
    first = lwa.get_access_token_from_refresh_token()
    check(first.startswith("Atza|") and first != tokens["access_token"], first[:12])


def me(step, token):
    with d.step(step) as note:
        answer = api_client.invoke(ApiClientRequest(method="GET", url=f"{d.url}/v1/me", headers=[
            ("Authorization", f"Bearer {token}"), ("x-api-key", PROFILE)]))
        check(answer.status_code == 200, "expected 200")
        note.append(f"user {json.loads(answer.body)['data']['user']['id']}")


me("GET /v1/me through the SDK's ApiClient", first)

with d.step("a second call answers from LwaClient's cache"):
    check(lwa.get_access_token_from_refresh_token() == first, "LwaClient asked again for a fresh token")

time.sleep(2.5)
with d.step("2.5 s later the token is within 60 s of expiry: LwaClient refreshes by itself"):
    second = lwa.get_access_token_from_refresh_token()
    check(second != first, "the cached token came back")
me("GET /v1/me with the refreshed token", second)

with d.step("LwaClient.get_access_token_for_scope: client_credentials (Seller Back Office client)"):
    seller = d.client(SELLER_CLIENT)
    app = LwaClient(config, AuthenticationConfiguration(client_id=SELLER_CLIENT, client_secret=seller["client_secret"]))
    check(app.get_access_token_for_scope("sellingpartnerapi::notifications").startswith("Atc|"), "not an Atc| token")

with d.step("verdict rule lwa-no-leniency: pass"):
    status, message = d.verdict("lwa-no-leniency")
    check(status == "pass", f"{status}: {message}")
