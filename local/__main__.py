"""`python -m local`: DynamoDB Local + the template's table + the HTTP API + the Lambda Invoke API."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import urllib.request

from .stack import put_program, start
from .template import ROOT

DEMO_ID = "demo-coffee"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", "3000")))
    parser.add_argument("--lambda-port", type=int, default=int(os.environ.get("LAMBDA_PORT", "3001")))
    parser.add_argument("--ddb-port", type=int, default=int(os.environ.get("DDB_PORT", "8000")))
    parser.add_argument("--in-memory", action="store_true", help="keep no data on disk")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args()

    data_dir = None if args.in_memory else ROOT / ".local" / "dynamodb"
    stack = start(args.api_port, args.lambda_port, args.ddb_port, data_dir, verbose=not args.quiet)
    print(f"DynamoDB Local  {stack.ddb.endpoint}  data: {data_dir or 'in memory'}")
    print(f"HTTP API        {stack.api_url}   (OpenAPI {stack.api_url}/openapi.json, Swagger UI {stack.api_url}/docs)")
    for fn in stack.runtime.functions.values():
        for route in fn.routes:
            print(f"  {route.method:<6} {route.path:<58} {fn.name} [{route.auth}]")
    print(f"Lambda Invoke   {stack.invoke_url}   functions: {', '.join(stack.runtime.functions)}")

    try:
        urllib.request.urlopen(f"{stack.api_url}/programs/{DEMO_ID}", timeout=60)
        print(f"demo program    {DEMO_ID} already loaded")
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        status, body = put_program(stack.api_url, DEMO_ID, json.loads((ROOT / "programs" / "demo.json").read_text()))
        print(f"demo program    {DEMO_ID} loaded from programs/demo.json: {status} {body}")
    print("ready; Ctrl-C stops")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
