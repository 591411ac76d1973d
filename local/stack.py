"""Start and stop the whole local stack: DynamoDB Local, the template's tables, both endpoints."""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .containers import Runtime
from .dynamodb import DynamoDBLocal, client, create_tables_from_template
from .server import ApiServer, InvokeServer
from .template import Template, load_template


def handler_env(ddb_endpoint: str) -> dict[str, str]:
    """What the handlers see locally: DynamoDB Local instead of AWS, no X-Ray daemon to talk to."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": ddb_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


@dataclass
class Stack:
    template: Template
    ddb: DynamoDBLocal
    runtime: Runtime
    api: ApiServer
    invoke: InvokeServer
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api.server_address[1]}"

    @property
    def invoke_url(self) -> str:
        return f"http://127.0.0.1:{self.invoke.server_address[1]}"

    def stop(self) -> None:
        for server in (self.api, self.invoke):
            server.shutdown()
            server.server_close()
        self.runtime.stop()
        self.ddb.stop()


def start(
    api_port: int = 3000,
    lambda_port: int = 3001,
    ddb_port: int | None = 8000,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    containers: int = 8,
    verbose: bool = False,
) -> Stack:
    template = load_template()
    ddb = DynamoDBLocal(port=ddb_port, data_dir=data_dir).start()
    try:
        create_tables_from_template(client(ddb.endpoint), template)
        runtime = Runtime(template.functions(), {**handler_env(ddb.endpoint), **(env or {})}, limit=containers)
        api = ApiServer(api_port, runtime, verbose)
        invoke = InvokeServer(lambda_port, runtime, verbose)
    except BaseException:
        ddb.stop()
        raise
    stack = Stack(template, ddb, runtime, api, invoke)
    for server in (api, invoke):
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        stack.threads.append(thread)
    return stack


def put_program(api_url: str, program_id: str, document: dict[str, object]) -> tuple[int, dict[str, object]]:
    """PUT a program through the API, so it is validated like any operator's."""
    req = urllib.request.Request(
        f"{api_url}/programs/{program_id}",
        data=json.dumps(document).encode(),
        method="PUT",
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
