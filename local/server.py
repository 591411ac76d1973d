"""The two local endpoints: the HTTP API (as `sam local start-api`) and the Lambda Invoke API
(as `sam local start-lambda`). Both hand events to the containers of `containers.py`."""

from __future__ import annotations

import base64
import binascii
import json
import sys
import threading
import time
import traceback
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlsplit

from .containers import Runtime
from .streams import EventLog
from .template import ROOT, Route

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
CONSOLE_DIR = ROOT / "console" / "dist"  # `make console/dist/.ok` builds it
# Only what Vite emits; anything else is not served (no guessing from the platform's mime table).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


def jwt_claims(header: str | None) -> dict[str, Any] | None:
    """The payload of a Bearer token, or None. The signature is API Gateway's job in AWS, not checked here."""
    if not header or not header.startswith("Bearer "):
        return None
    parts = header[7:].strip().split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) and isinstance(claims.get("sub"), str) else None


def match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The most specific matching route: literal segments beat {params}."""
    found = [(r, m) for r in routes if r.method in (method, "ANY") and (m := r.pattern.fullmatch(path))]
    if not found:
        return None
    route, m = max(found, key=lambda rm: rm[0].literal_segments)
    return route, {k: unquote(v) for k, v in m.groupdict().items()}


def http_event(
    route: Route,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    params: dict[str, str],
    claims: dict[str, Any] | None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event."""
    url = urlsplit(target)
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = datetime.now(UTC)
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": headers.get("host", "127.0.0.1"),
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": url.path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": f"{route.method} {route.path}",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": encoded,
    }
    if "cookie" in headers:
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text
    return event


def http_response(result: Any) -> tuple[int, bytes, dict[str, str], list[str] | None]:
    """A handler's result as API Gateway (payload v2.0) writes it: a response dict, or anything else as 200 JSON."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, json.dumps(result).encode(), {}, None
    payload = result.get("body") or ""
    data = base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode()
    headers = {k: ",".join(v) if isinstance(v, list) else str(v) for k, v in (result.get("headers") or {}).items()}
    for k, v in (result.get("multiValueHeaders") or {}).items():
        headers[k] = ",".join(map(str, v))
    return int(result["statusCode"]), data, headers, result.get("cookies")


class _Handler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _reply(
        self, status: int, body: bytes, headers: dict[str, str] | None = None, cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        headers = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
        for key, value in headers.items():
            self.send_header(key, value)
        for cookie in cookies or []:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        declared = (self.headers.get("content-length") or "0").strip()
        if not declared.isdigit():  # a negative length would read to the end of the stream, never answered
            self._reply(400, b'{"message":"Bad Request"}', {"connection": "close"})
            self.close_connection = True
            return None
        length = int(declared)
        if length > MAX_BODY:
            self._reply(413, b'{"message":"Request Entity Too Large"}', {"connection": "close"})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self.server.dispatch(self)

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD> and answers a method it finds none for (TRACE, CONNECT, any
        # token) with its own 501 HTML page. API Gateway answers every method: a route it has, or its
        # JSON 404. So every method goes to dispatch, which answers exactly that.
        if name.startswith("do_"):
            return self.do_GET
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's listen backlog is 5: fifty clients connecting at once (the parallel tests, a load
    # test) could overflow it and see a connection reset, which API Gateway never gives.
    request_queue_size = 256

    def __init__(self, port: int, runtime: Runtime, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.runtime, self.verbose = runtime, verbose

    def dispatch(self, req: _Handler) -> None:
        raise NotImplementedError

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up before its answer is written is normal (timeouts, ctrl-c): no traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def scheduled_event(at: datetime) -> dict[str, Any]:
    """The EventBridge Scheduler event of a run at `at` (the sweeps take the run's time from `time`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def with_work(result: Any, work: dict[str, int]) -> Any:
    """A function's answer with what became of the work it queued (`settled`, `failed`,
    `dead_lettered` messages), when it queued any: a run is not done when its work failed."""
    return {**result, "work": work} if isinstance(result, dict) and any(work.values()) else result


def work_failed(work: dict[str, int]) -> bool:
    return work.get("failed", 0) + work.get("dead_lettered", 0) > 0


def _error(code: str, message: str, field: str | None = None) -> bytes:
    """The contract's error shape (API.md), so the console reads local routes' errors like the API's."""
    details = [{"field": field, "message": message}] if field else []
    return json.dumps({"error": {"code": code, "message": message, "details": details}}).encode()


UNAUTHORIZED = (401, _error("unauthorized", "a member token with a subject (sub) is required"))
FORBIDDEN = (403, _error("forbidden", "a server route takes no member token (IAM authorization in AWS)"))


def authorize(route: Route, header: str | None) -> tuple[tuple[int, bytes] | None, dict[str, Any] | None]:
    """(API Gateway's refusal or None, the JWT claims for /me routes). The refusals have API Gateway's
    statuses in the contract's error shape (in AWS the authorizers answer `{"message": ...}` themselves)."""
    claims = jwt_claims(header)
    if route.auth == "jwt":
        return (UNAUTHORIZED if claims is None else None), claims
    if route.auth == "iam" and claims is not None:
        # In AWS the IAM authorizer refuses a bearer token (it is no SigV4 signature), so a member's
        # token never reaches a server route; unsigned calls stay open locally (API.md).
        return FORBIDDEN, None
    return None, None


class ApiServer(LocalServer):
    EVENTS = "/_local/events"  # not an API route: the domain events the local pipes produced
    SCHEDULED = "/_local/scheduled"  # not an API route: run a scheduled function for a chosen time
    CONSOLE = "/console"  # not an API route: the operator console's static files

    def __init__(self, port: int, runtime: Runtime, verbose: bool = False) -> None:
        super().__init__(port, runtime, verbose)
        self.routes = [r for fn in runtime.functions.values() for r in fn.routes]
        self.events: EventLog | None = None
        self.scheduled: list[str] = []  # the template's scheduled functions (stack.start sets them)
        self.senders: set[str] = set()  # routes' functions whose requests queue work (stack.start sets them)
        self.console_dir: Path = CONSOLE_DIR

    def dispatch(self, req: _Handler) -> None:
        body = req._body()
        if body is None:
            return
        url = urlsplit(req.path)
        if self._local(req, url.path, url.query, body):
            return None
        found = match(self.routes, req.command, url.path)
        if found is None:
            return req._reply(404, b'{"message":"Not Found"}')
        route, params = found
        headers: dict[str, str] = {}
        for key, value in req.headers.items():  # repeated headers are comma-joined, as API Gateway does
            headers[key.lower()] = f"{headers[key.lower()]},{value}" if key.lower() in headers else value
        refused, claims = authorize(route, headers.get("authorization"))
        if refused is not None:
            return req._reply(*refused)
        event = http_event(route, req.command, req.path, headers, body, params, claims)
        started = time.monotonic()
        try:
            status, result = self.runtime.invoke(route.function, event)
            if self.verbose:
                print(f"{req.command} {req.path} -> {route.function} {(time.monotonic() - started) * 1000:.0f} ms")
            if status != "ok":  # the container printed the traceback; the client gets API Gateway's answer
                return req._reply(500, b'{"message":"Internal Server Error"}')
            reply = http_response(result)
            if route.function in self.senders:  # its work runs after the answer, as SQS's consumers would
                threading.Thread(target=self.runtime.settle, daemon=True).start()
        except Exception:  # a dead container or a malformed response: the console gets the why, never the client
            traceback.print_exc()
            return req._reply(500, b'{"message":"Internal Server Error"}')
        req._reply(*reply)

    def _local(self, req: _Handler, path: str, query: str, body: bytes) -> bool:
        """The local-only routes (no API route starts with /_local or /console); True if it answered."""
        if path == self.EVENTS and req.command == "GET" and self.events is not None:
            self._events(req, query)
        elif path == self.SCHEDULED and req.command == "GET":
            req._reply(200, json.dumps({"functions": self.scheduled}).encode())
        elif path.startswith(self.SCHEDULED + "/") and req.command == "POST":
            self._run_scheduled(req, unquote(path[len(self.SCHEDULED) + 1 :]), body)
        elif (path == self.CONSOLE or path.startswith(self.CONSOLE + "/")) and req.command == "GET":
            self._console(req, path[len(self.CONSOLE) :])
        else:
            return False
        return True

    def _console(self, req: _Handler, rest: str) -> None:
        """index.html for /console and /console/ (hash routing: no other page paths), else a built file."""
        root = self.console_dir.resolve()
        path = (root / "index.html") if rest in ("", "/") else (root / unquote(rest).lstrip("/")).resolve()
        kind = CONTENT_TYPES.get(path.suffix)
        if not path.is_relative_to(root) or not path.is_file() or kind is None:
            if not (root / "index.html").is_file():
                return req._reply(404, _error("not_found", "the console is not built: run `make console/dist/.ok`"))
            return req._reply(404, _error("not_found", f"no console file {rest!r}"))
        # Vite names assets by content hash, so they never change; index.html must be re-read each load.
        cache = "public, max-age=31536000, immutable" if rest.startswith("/assets/") else "no-cache"
        headers = {"content-type": kind, "cache-control": cache, "x-content-type-options": "nosniff"}
        return req._reply(200, path.read_bytes(), headers)

    def _run_scheduled(self, req: _Handler, name: str, body: bytes) -> None:
        """`{"at": ISO}`: the function's scheduled event for that instant, answered once its queued work is done
        (as the Invoke API does), with the function's JSON result and its work's counts; a run whose work
        failed is a 503 `unavailable` naming the counts, not a success: the run may be repeated for the same time,
        which changes nothing that settled."""
        if name not in self.scheduled:
            return req._reply(404, _error("not_found", f"no scheduled function {name!r}", "function"))
        try:
            payload = json.loads(body or b"{}")
            at = datetime.fromisoformat(str(payload.get("at"))) if isinstance(payload, dict) else None
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            message = "an ISO 8601 instant with an offset, e.g. 2026-12-01T00:00:00Z"
            return req._reply(400, _error("validation_error", message, "at"))
        try:
            status, result, work = self.runtime.invoke_and_settle(name, scheduled_event(at))
        except Exception:  # a dead container: the why goes to the console, as in dispatch
            traceback.print_exc()
            return req._reply(500, _error("function_error", f"{name}: the container failed"))
        counts = ", ".join(f"{n} {fate.replace('_', '-')}" for fate, n in work.items())
        if status != "ok":
            message = result.get("errorMessage", "the function failed") if isinstance(result, dict) else str(result)
            queued = f" (its work items: {counts})" if any(work.values()) else ""
            return req._reply(503, _error("unavailable", f"{name} failed: {message}{queued}"))
        if work_failed(work):
            # Not a success: failed items come back after the queue's visibility timeout, dead-lettered ones never.
            return req._reply(503, _error("unavailable", f"{name}: work items {counts}", "work"))
        req._reply(200, json.dumps(with_work(result, work), default=str).encode())

    def _events(self, req: _Handler, query: str) -> None:
        """`?since=<seq>`: the events after the last one a reader saw."""
        assert self.events is not None
        since = parse_qs(query).get("since", ["0"])[0]
        seq = int(since) if since.isdigit() else 0
        req._reply(200, json.dumps({"events": self.events.since(seq)}, default=str).encode())


class InvokeServer(LocalServer):
    PREFIX = "/2015-03-31/functions/"

    def dispatch(self, req: _Handler) -> None:
        body = req._body()
        if body is None:
            return
        path = urlsplit(req.path).path
        if req.command != "POST" or not path.startswith(self.PREFIX) or not path.endswith("/invocations"):
            return req._reply(404, b'{"message":"Not Found"}')
        name = unquote(path[len(self.PREFIX) : -len("/invocations")]).split(":function:")[-1].split(":")[0]
        if name not in self.runtime.functions:
            msg = json.dumps({"Type": "User", "message": f"Function not found: {name}"}).encode()
            return req._reply(404, msg, {"x-amzn-ErrorType": "ResourceNotFoundException"})
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            return req._reply(
                400,
                b'{"Type":"User","message":"Could not parse request body into json"}',
                {"x-amzn-ErrorType": "InvalidRequestContentException"},
            )
        self._invoke(req, name, event)

    def _invoke(self, req: _Handler, name: str, event: Any) -> None:
        kind = req.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind == "DryRun":
            return req._reply(204, b"")
        if kind == "Event":  # asynchronous: accepted now, run (and settled) in the background as Lambda would
            threading.Thread(target=self.runtime.invoke_and_settle, args=(name, event), daemon=True).start()
            return req._reply(202, b"")
        status, result, work = self.runtime.invoke_and_settle(name, event)
        # A function error is still a 200 for the Invoke API; the header tells the caller it failed.
        # The work it queued is reported in its answer (`work`), as POST /_local/scheduled does.
        headers = {} if status == "ok" else {"X-Amz-Function-Error": "Unhandled"}
        return req._reply(200, json.dumps(with_work(result, work)).encode(), headers)
