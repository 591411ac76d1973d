"""Browser: the console's AWS mode (console/src/aws.ts) in Chromium, against a stand-in for the AWS side
that checks what AWS would: the hosted UI's code flow with PKCE, the identity pool trading the id token
for the operators group's credentials (and refusing a user outside the group), and API Gateway's IAM
authorizer verifying each call's SigV4 signature (botocore computes the expected one) before passing it
to the local runtime with the role as the principal. The console build is the one `make console-deploy`
uploads; only config.json differs, written by console/deploy.config from stack outputs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from console import deploy
from local.dynamodb import free_port
from tests.browser.conftest import MID, PID, By, call, check_page, text_of, wait
from tests.support import jwt

pytestmark = pytest.mark.integration

REGION, POOL, CLIENT, IDENTITY_POOL = "eu-west-1", "eu-west-1_Console", "console-client", "eu-west-1:pool"
PROVIDER = f"cognito-idp.{REGION}.amazonaws.com/{POOL}"
KEY, SECRET, SESSION = "ASIAOPERATOR", "role/secret+key", "the-role-session-token"
ROLE = "arn:aws:sts::000000000000:assumed-role/ConsoleOperatorRole/CognitoIdentityCredentials"
OPERATOR = {"sub": "op-1", "email": "ops@example.com", "cognito:groups": ["operators"]}
OUTSIDER = {"sub": "m-9", "email": "member@example.com"}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class FakeAws(ThreadingHTTPServer):
    """CloudFront (the console's files), the hosted UI, the identity pool and the API, on one origin."""

    daemon_threads = True

    def __init__(self, port: int, site: Path, runtime_url: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.site, self.runtime_url = site, runtime_url
        self.origin = f"http://127.0.0.1:{port}"
        self.user: dict[str, Any] = OPERATOR  # who signs in at the hosted UI
        self.codes: dict[str, tuple[str, str, dict[str, Any]]] = {}  # code -> (challenge, redirect, claims)
        self.signed: list[str] = []  # API calls whose signature held
        self.refused: list[str] = []  # API calls whose signature did not
        self.logouts: list[dict[str, str]] = []


class _Handler(BaseHTTPRequestHandler):
    server: FakeAws

    def log_message(self, *_: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, kind: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path.startswith("/api/"):
            return self._api(b"")
        if url.path == "/oauth2/authorize":
            assert (query["response_type"], query["client_id"]) == ("code", CLIENT), query
            assert (
                query["code_challenge_method"] == "S256" and query["redirect_uri"] == f"{self.server.origin}/console/"
            )
            code = secrets.token_urlsafe(12)
            self.server.codes[code] = (query["code_challenge"], query["redirect_uri"], self.server.user)
            back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
            return self._reply(302, b"", "text/plain", location=back)
        if url.path == "/logout":
            self.server.logouts.append(query)
            return self._reply(200, b"<p>signed out</p>", "text/html")
        # CloudFront: /console/ is index.html, assets and config.json as stored.
        rel = "index.html" if url.path in ("/console", "/console/") else url.path.removeprefix("/console/")
        path = (self.server.site / rel).resolve()
        if not path.is_relative_to(self.server.site) or not path.is_file():
            return self._reply(403, b"<Error>AccessDenied</Error>", "application/xml")
        kinds = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
        return self._reply(200, path.read_bytes(), kinds.get(path.suffix, "application/octet-stream"))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/api/"):
            return self._api(self._body())
        if url.path == "/oauth2/token":
            form = dict(parse_qsl(self._body().decode()))
            challenge, redirect, claims = self.server.codes.pop(form.get("code", ""), ("", "", {}))
            proof = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            if not challenge or proof != challenge or form.get("redirect_uri") != redirect:
                return self._reply(400, b'{"error":"invalid_grant"}')
            token = jwt(claims["sub"], **{k: v for k, v in claims.items() if k != "sub"})
            return self._reply(200, json.dumps({"id_token": token, "expires_in": 3600}).encode())
        if url.path == "/identity/":
            return self._identity(self.headers["x-amz-target"].split(".")[-1], json.loads(self._body()))
        return self._reply(404, b"{}")

    do_PUT = do_DELETE = do_POST

    def _identity(self, action: str, body: dict[str, Any]) -> None:
        [(provider, token)] = body["Logins"].items()
        assert provider == PROVIDER, provider
        if action == "GetId":
            assert body["IdentityPoolId"] == IDENTITY_POOL
            return self._reply(200, json.dumps({"IdentityId": f"{REGION}:{claims_of(token)['sub']}"}).encode())
        # Token role mapping, AmbiguousRoleResolution Deny: no operators group, no credentials.
        if "operators" not in claims_of(token).get("cognito:groups", []):
            refusal = {"__type": "InvalidIdentityPoolConfigurationException", "message": "no role for this user"}
            return self._reply(400, json.dumps(refusal).encode())
        creds = {"AccessKeyId": KEY, "SecretKey": SECRET, "SessionToken": SESSION, "Expiration": time.time() + 3600}
        return self._reply(200, json.dumps({"IdentityId": body["IdentityId"], "Credentials": creds}).encode())

    def _api(self, body: bytes) -> None:
        """API Gateway's IAM authorizer: the signature must be the one these credentials make."""
        header = self.headers.get("authorization", "")
        found = re.fullmatch(
            r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/execute-api/aws4_request, "
            r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
            header,
        )
        expected = None
        if found and found[1] == KEY and found[2] == REGION and self.headers.get("x-amz-security-token") == SESSION:
            names = found[3].split(";")
            request = AWSRequest(
                method=self.command,
                url=f"http://{self.headers['host']}{self.path}",
                data=body,
                headers={n: self.headers[n] for n in names if self.headers[n] is not None},
            )
            request.context["timestamp"] = self.headers["x-amz-date"]
            signer = SigV4Auth(Credentials(KEY, SECRET, SESSION), "execute-api", REGION)
            expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not found or expected != found[4]:
            self.server.refused.append(f"{self.command} {self.path}")
            return self._reply(403, b'{"message":"The request signature we calculated does not match"}')
        self.server.signed.append(f"{self.command} {self.path}")
        forward = urllib.request.Request(
            self.server.runtime_url + self.path.removeprefix("/api"),
            data=body or None,
            method=self.command,
            headers={"content-type": "application/json", "x-loyalty-actor": ROLE},  # the caller's IAM principal
        )
        try:
            with urllib.request.urlopen(forward, timeout=120) as resp:  # loopback only
                status, answer = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, answer = err.code, err.read()
        return self._reply(status, answer)


@pytest.fixture(scope="module")
def aws(base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAws]:
    site = tmp_path_factory.mktemp("console-site")
    shutil.copytree(deploy.DIST, site, dirs_exist_ok=True)
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    outputs = {
        "ApiUrl": f"{origin}/api/",
        "ConsoleSignInDomain": origin,
        "ConsoleUserPoolClientId": CLIENT,
        "ConsoleIdentityPoolId": IDENTITY_POOL,
        "MemberUserPoolId": POOL,
    }
    settings = deploy.config(outputs, REGION) | {"identity_endpoint": f"{origin}/identity/"}
    (site / "config.json").write_text(json.dumps(settings))
    server = FakeAws(port, site.resolve(), base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def fresh_tab(driver: Any, aws: FakeAws) -> None:
    driver.get(f"{aws.origin}/logout")  # the fake's origin, to clear its session storage
    driver.execute_script("sessionStorage.clear(); localStorage.clear();")
    driver.get_log("browser")


def test_an_operator_signs_in_and_every_call_is_signed(browser: Any, base: str, aws: FakeAws, tmp_path: Path) -> None:
    fresh_tab(browser, aws)
    aws.user, aws.signed[:], aws.refused[:] = OPERATOR, [], []
    browser.get(f"{aws.origin}/console/#/member?program={PID}&member={MID}")
    wait(browser, "the member after sign-in", lambda d: text_of(d, "#member-balance"))
    assert "Signed in as ops@example.com" in text_of(browser, "header .user")
    assert "code=" not in browser.current_url and browser.current_url.endswith(f"#/member?program={PID}&member={MID}")
    assert any(call.startswith(f"GET /api/programs/{PID}/members/{MID}") for call in aws.signed), aws.signed

    # A write: signed like the reads, and the audit trail names the role (the principal AWS would give).
    browser.find_element(By.ID, "adj-points").send_keys("5")
    browser.find_element(By.ID, "adj-reason").send_keys("signed from the console")
    browser.find_element(By.CSS_SELECTOR, "form[aria-labelledby=adj-h] button[type=submit]").click()
    wait(browser, "the adjustment's audit", lambda d: "ConsoleOperatorRole" in text_of(d, "[aria-labelledby=audit-h]"))
    # The ledger names the same actor: the role, not a name typed in (the form has no actor field in AWS).
    wait(browser, "the adjustment's entry", lambda d: "ConsoleOperatorRole" in text_of(d, "[aria-labelledby=ledger-h]"))
    assert not browser.find_elements(By.ID, "adj-actor")
    assert any(c.startswith(f"POST /api/programs/{PID}/members/{MID}/adjustments") for c in aws.signed)

    # Scheduled work in AWS: read-only (no function to run), the last runs and the queues.
    browser.get(f"{aws.origin}/console/#/scheduled")
    wait(browser, "the queues", lambda d: "WorkQueue" in text_of(d, "[aria-labelledby=work-h]"))
    if call(base, "GET", "/operations/scheduled")[1]["runs"]:  # a planner ran in an earlier test
        assert "expire, remind" in text_of(browser, "[aria-labelledby=work-h]")
    assert not browser.find_elements(By.CSS_SELECTOR, "button[data-function]")
    assert "GET /api/operations/scheduled" in aws.signed
    assert not aws.refused, aws.refused
    check_page(browser, "scheduled-aws", tmp_path)

    browser.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    wait(browser, "the hosted UI's logout", lambda d: aws.logouts)
    assert aws.logouts[-1] == {"client_id": CLIENT, "logout_uri": f"{aws.origin}/console/"}


def test_a_user_outside_the_operators_group_gets_no_credentials(browser: Any, aws: FakeAws) -> None:
    fresh_tab(browser, aws)
    aws.user, aws.signed[:] = OUTSIDER, []
    browser.get(f"{aws.origin}/console/#/health?program={PID}")
    message = wait(browser, "the refusal", lambda d: text_of(d, "main .msg.error"))
    assert "no console access" in message and "operators" in message, message
    assert aws.signed == []  # no API call was made, let alone signed
