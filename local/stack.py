"""Start and stop the whole local stack: DynamoDB Local, the template's tables, both endpoints."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .buckets import LocalBuckets
from .containers import Runtime
from .dynamodb import DynamoDBLocal, client, create_tables_from_template
from .queues import LocalQueues
from .server import ApiServer, InvokeServer
from .streams import EventLog, StreamPoller
from .template import TEMPLATE, Template, load_template


def handler_env(ddb_endpoint: str) -> dict[str, str]:
    """What the handlers see locally: DynamoDB Local instead of AWS, no X-Ray daemon to talk to."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": ddb_endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Powertools v3: no EMF blobs on the console locally (the template's namespace stays set).
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


@dataclass
class Stack:
    template: Template
    ddb: DynamoDBLocal
    runtime: Runtime
    queues: LocalQueues
    api: ApiServer
    invoke: InvokeServer
    buckets: LocalBuckets | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    pipes: list[StreamPoller] = field(default_factory=list)
    events: EventLog = field(default_factory=EventLog)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api.server_address[1]}"

    @property
    def invoke_url(self) -> str:
        return f"http://127.0.0.1:{self.invoke.server_address[1]}"

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.stop()
        if self.buckets is not None:
            self.buckets.stop()
        for server in (self.api, self.invoke):
            server.shutdown()
            server.server_close()
        self.runtime.stop()
        self.queues.stop()
        self.ddb.stop()


def start(
    api_port: int = 3000,
    lambda_port: int = 3001,
    ddb_port: int | None = 8000,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    containers: int = 8,
    verbose: bool = False,
    template_path: Path = TEMPLATE,
    ddb_jvm_args: Sequence[str] = (),
    streams: bool = True,
    imports_dir: Path | None = None,
) -> Stack:
    template = load_template(template_path)
    ddb = DynamoDBLocal(port=ddb_port, data_dir=data_dir, jvm_args=ddb_jvm_args).start()
    queues = None
    try:
        create_tables_from_template(client(ddb.endpoint), template)
        queues = LocalQueues(template)
        template.refs.update(queues.urls)  # !Ref WorkQueue is the queue's URL, as in AWS
        buckets = LocalBuckets(template, queues.endpoint, imports_dir)  # S3 in the same moto server
        template.refs.update(buckets.names)  # !Ref ImportBucket is the bucket's name
        local_env = {
            **handler_env(ddb.endpoint),
            "AWS_ENDPOINT_URL_SQS": queues.endpoint,
            "AWS_ENDPOINT_URL_S3": queues.endpoint,
            # A program PUT is seen by the very next request (a client testing its rules expects it):
            # locally every request reads the program; in AWS a warm container keeps it 10 s.
            "PROGRAM_CACHE_TTL_SECONDS": os.environ.get("PROGRAM_CACHE_TTL_SECONDS", "0"),
            **(env or {}),
        }
        runtime = Runtime(template.functions(), local_env, limit=containers)
        runtime.settle = lambda: queues.drain(runtime)
        api = ApiServer(api_port, runtime, verbose)
        invoke = InvokeServer(lambda_port, runtime, verbose)
    except BaseException:
        if queues:
            queues.stop()
        ddb.stop()
        raise
    stack = Stack(template, ddb, runtime, queues, api, invoke, buckets=buckets.start(runtime))
    consumers = template.stream_consumers() if streams else []
    stack.pipes = [StreamPoller(p, ddb.endpoint, runtime, stack.events).start() for p in consumers]
    api.events = stack.events
    api.scheduled = template.scheduled()
    api.senders = template.api_senders()
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


def load_demo(api_url: str, program_id: str, document: Path) -> str:
    """Load a program through the API unless it is already there; a line saying what happened.
    Never raises: a demo that cannot load (bad document, placeholder handlers) must not stop the runtime."""
    if not document.is_file():
        return f"{document.name} not found, nothing loaded"
    try:
        with urllib.request.urlopen(f"{api_url}/programs/{program_id}", timeout=60) as resp:
            resp.read()
        return f"{program_id} already loaded"
    except urllib.error.HTTPError as err:
        if err.code != 404:
            return f"{program_id}: GET answered {err.code} {err.read()[:200]!r}; not loaded"
    except OSError as err:
        return f"{program_id}: GET failed ({err}); not loaded"
    try:
        status, body = put_program(api_url, program_id, json.loads(document.read_text()))
    except (OSError, ValueError) as err:
        return f"{program_id}: PUT failed ({err}); not loaded"
    return f"{program_id} loaded from {document.name}: {status} {json.dumps(body)[:300]}"
