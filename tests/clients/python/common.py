"""What every Python driver shares: the mock's address, the fixture clients, one line per step, and a failure
that names the library, the step and the mock's answer (status and body).

Calls to the mock's admin API (settings, device approval, verdict) and the "browser" that follows /ap/oa's
redirect use the standard library, never the OAuth library under test.
"""

import contextlib
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

# The music-enabled fixture profile and its clients (README "Fixtures"); secrets and return URLs are read from
# GET /__admin/security-profiles.
PROFILE = "amzn1.application.30877432d1026706d7e805da846a32c3"
WEB_CLIENT = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217"  # confidential, has a secret
PUBLIC_CLIENT = "amzn1.application-oa2-client.21a278f64f7fd633dbdde131ca3766e4"  # public, PKCE
DEVICE_CLIENT = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696"  # public, code-based linking
TV_CLIENT = "amzn1.application-oa2-client.75f71764f18111c7d2c71581e903cad5"  # confidential, code-based linking
# GET /v1/me needs music::profile:read (or music::profile), docs/ROUTES.md.
SCOPE = "profile music::profile:read"


class Failure(Exception):
    """A step's check failed; `answer` is the mock's (status, body) when one is to blame."""

    def __init__(self, message, answer=None):
        super().__init__(message)
        self.answer = answer


class Driver:
    """Command line: `driver.py BASE_URL [SESSION]`, or AMM_URL / AMM_SESSION in the environment."""

    def __init__(self, library, session):
        self.library = library
        args = sys.argv[1:]
        self.base = (args[0] if args else os.environ.get("AMM_URL", "")).rstrip("/")
        if not self.base:
            sys.exit(f"usage: {sys.argv[0]} BASE_URL [SESSION] (or AMM_URL, AMM_SESSION)")
        self.session = args[1] if len(args) > 1 else os.environ.get("AMM_SESSION", session)
        self.url = f"{self.base}/s/{self.session}"  # every route of this driver's own mock session
        self.last = None  # the mock's last answer in the current step: (status, body)
        # Against `serve --tls`: the CA that requests trusts through REQUESTS_CA_BUNDLE, for urllib too.
        self.tls = ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE"))

    # --- steps -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(self, name):
        """Runs one step; prints `ok` and the step, or `FAIL`, the library, the step and the mock's answer and
        exits 1."""
        self.last = None
        note = []
        try:
            yield note
        except Exception as e:  # noqa: BLE001: any failure of the library or of a check ends the driver
            answer = getattr(e, "answer", None) or self.last
            said = f"; the mock answered {answer[0]} {answer[1]}" if answer else ""
            print(f"FAIL {self.library}: step \"{name}\": {type(e).__name__}: {e}{said}", flush=True)
            sys.exit(1)
        print(f"ok   {self.library}: {name}" + (f" ({', '.join(note)})" if note else ""), flush=True)

    def record(self, response, *args, **kwargs):
        """A `requests` response hook: keeps the mock's answer for the failure message."""
        self.last = (response.status_code, response.text[:600])
        return response

    def expect(self, response, status=200):
        """Checks a `requests` response's status; the failure carries the answer."""
        self.record(response)
        if response.status_code != status:
            raise Failure(f"expected {status}", self.last)
        return response

    # --- the mock's admin API and the browser ------------------------------------------------------------
    def admin(self, method, path, body=None, url=None):
        """An admin call in this driver's session, or in the session whose URL is `url`."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{url or self.url}/__admin{path}", data=data, method=method,
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.tls) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise Failure(f"admin {method} {path}", (e.code, e.read().decode(errors="replace"))) from None

    def settings(self, url=None, **values):
        return self.admin("PUT", "/settings", values, url)

    def approve(self, user_code, url=None):
        answer = self.admin("POST", "/device/approve", {"user_code": user_code}, url)
        if answer.get("status") != "approved":
            raise Failure("approval refused", (200, json.dumps(answer)))

    def client(self, client_id):
        """The fixture client (id, secret, return URLs) as the admin API lists it."""
        for profile in self.admin("GET", "/security-profiles"):
            for c in profile["clients"]:
                if c["client_id"] == client_id:
                    return c
        raise Failure(f"no fixture client {client_id}")

    def browse(self, url):
        """The browser at /ap/oa under auto_consent: answers the redirect's Location without following it."""

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=self.tls)).open(url)
        except urllib.error.HTTPError as e:
            if e.code == 302:
                return e.headers["Location"]
            raise Failure("/ap/oa did not redirect", (e.code, e.read().decode(errors="replace")[:600])) from None
        raise Failure("/ap/oa did not redirect (200: a sign-in page?)")

    def verdict(self, rule, url=None):
        """The status (pass, fail, not_exercised) and message of one client rule over the session's journal."""
        for r in self.admin("GET", "/verdict", None, url)["rules"]:
            if r["id"] == rule:
                return r["status"], r.get("message", "")
        raise Failure(f"no verdict rule {rule}")


def check(condition, message):
    if not condition:
        raise Failure(message)
