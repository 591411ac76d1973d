"""`python -m local`: DynamoDB Local + the template's table + the HTTP API + the Lambda Invoke API."""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from pathlib import Path
from typing import NoReturn

from . import ports
from .stack import Stack, load_demo, start
from .template import ROOT, TEMPLATE

DEMO_ID = "demo-coffee"
DEMO_FILE = ROOT / "programs" / "demo.json"
IMPORTS_DIR = ROOT / ".local" / "imports"


def _taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _interrupt(*_: object) -> NoReturn:
    raise KeyboardInterrupt  # SIGTERM stops the runtime the same orderly way as Ctrl-C


def banner(stack: Stack, data_dir: Path | None) -> None:
    print(f"DynamoDB Local   {stack.ddb.endpoint}   data: {data_dir or 'in memory'}")
    print(f"                 tables: {', '.join(stack.template.tables())}")
    print(f"HTTP API         {stack.api_url}")
    for fn in stack.runtime.functions.values():
        for route in fn.routes:
            print(f"  {route.method:<6} {route.path:<58} -> {fn.name} [{route.auth}]")
    print(f"Lambda Invoke    {stack.invoke_url}/2015-03-31/functions/{{FunctionName}}/invocations")
    print(f"  functions: {', '.join(stack.runtime.functions)}")
    consumers = ", ".join(f"{p.pipe.name} -> {p.pipe.function}" for p in stack.pipes)
    print(f"Table stream     {consumers}")
    print(f"Domain events    {stack.api_url}/_local/events?since=0")
    if stack.buckets is not None:
        print(f"S3 (moto)        {stack.queues.endpoint}   buckets: {', '.join(stack.buckets.names.values())}")
        print(f"  import files:  {IMPORTS_DIR}/<program_id>/<import_id>.jsonl is uploaded and imported")
    print(f'Scheduled runs   POST {stack.api_url}/_local/scheduled/{{FunctionName}} {{"at": ISO}}')
    print(f"  functions: {', '.join(stack.api.scheduled)}")
    built = "" if (stack.api.console_dir / "index.html").is_file() else "   (not built: make console/dist/.ok)"
    print(f"Console          {stack.api_url}/console{built}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--api-port", type=int, default=ports.api_port())
    parser.add_argument("--lambda-port", type=int, default=ports.lambda_port(), help="default API_PORT + 1")
    parser.add_argument("--ddb-port", type=int, default=ports.ddb_port())
    parser.add_argument("--in-memory", action="store_true", help="keep no data on disk")
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="the SAM template (default: template.yaml)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args()

    # Fail before starting anything, with the way out in the message.
    for port, what, flag in (
        (args.api_port, "HTTP API", "API_PORT / --api-port"),
        (args.lambda_port, "Lambda Invoke API", "LAMBDA_PORT / --lambda-port"),
    ):
        if _taken(port):
            raise SystemExit(f"port {port} for the {what} is taken: is another `python -m local` running? ({flag})")

    signal.signal(signal.SIGTERM, _interrupt)
    data_dir = None if args.in_memory else ROOT / ".local" / "dynamodb"
    stack = None
    try:
        print("starting DynamoDB Local...", flush=True)
        chosen = (args.api_port, args.lambda_port, args.ddb_port)
        IMPORTS_DIR.mkdir(parents=True, exist_ok=True)
        stack = start(*chosen, data_dir, verbose=not args.quiet, template_path=args.template, imports_dir=IMPORTS_DIR)
        banner(stack, data_dir)
        print(f"demo program     {load_demo(stack.api_url, DEMO_ID, DEMO_FILE)}")
        print("ready; Ctrl-C stops", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping...", flush=True)
    finally:
        if stack is not None:
            stack.stop()
    print("stopped")


if __name__ == "__main__":
    main()
