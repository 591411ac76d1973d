"""What every generated method calls: one HTTP request with the standard library, JSON in and out, and
the contract's error shape raised as `ApiError`. No dependency but pydantic (for the models)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class ApiError(Exception):
    """A 4xx/5xx answer: `status`, and the contract's `{"error": {code, message, details}}` unpacked."""

    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        self.status = status
        self.code: str | None = error.get("code")
        self.message: str = error.get("message") or (body.get("message") if isinstance(body, dict) else "") or ""
        self.details: list[dict[str, Any]] = error.get("details") or []
        self.body = body
        super().__init__(f"{status} {self.code}: {self.message}")


class Transport:
    """`base_url` is the API's root (`http://127.0.0.1:3000` locally); `token` a member's JWT for the
    member routes (`/me`), sent as `Authorization: Bearer`; `headers` sent on every call; `sign` is
    handed each request last, complete, to add what depends on it (the server routes' SigV4 in AWS)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30,
        sign: Callable[[urllib.request.Request], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"accept": "application/json", **(headers or {})}
        if token:
            self.headers["authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.sign = sign

    def _call(self, method: str, template: str, path: Mapping[str, Any], query: Mapping[str, Any], body: Any) -> Any:
        url = self.base_url + template.format_map({k: urllib.parse.quote(str(v), safe="") for k, v in path.items()})
        params = [(k, _text(v)) for k, values in query.items() for v in _each(values)]
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(_plain(body), ensure_ascii=False).encode()
        headers = self.headers if data is None else {**self.headers, "content-type": "application/json"}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        if self.sign is not None:
            self.sign(request)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _json(response.read())
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, _json(error.read())) from None


def _plain(body: Any) -> Any:
    """A model as the JSON it stands for, leaving out the fields the caller never set (the server's
    defaults apply); a dict as it is."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return body


def _each(value: Any) -> list[Any]:
    """A query parameter's values: none, one, or a list repeated (`rates=30&rates=50`)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return {"message": raw.decode(errors="replace")}
