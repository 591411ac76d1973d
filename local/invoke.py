"""`python -m local.invoke FUNCTION [--event FILE] [--in-days N | --time ISO]`: invoke a function of the
running local runtime through its Lambda Invoke API (LAMBDA_PORT, else API_PORT + 1, as `python -m local`
reads them), as `sam local invoke` would, and print its answer (with `work`: how many of the messages it
queued were settled, failed or dead-lettered; the exit status is 1 when the function or its work
failed). For a scheduled function the event's `time` is the run's time: now unless `--time` or
`--in-days` says otherwise (`--in-days 31` runs the sweep a month from now, so the walk-through's
members are due). The URL reached and the run's time go to stderr, the answer to stdout."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import ports
from .template import ROOT

SAMPLES = {  # the sample event of each scheduled function, in events/
    "ChurnSweepFunction": "churn-sweep-scheduled.json",
    "ExpirePointsFunction": "expire-points-scheduled.json",
    "EvaluateTierFunction": "evaluate-tier-scheduled.json",
    "IssueBenefitsFunction": "issue-benefits-scheduled.json",
    "MigrateDueFunction": "migrate-due-start.json",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.invoke", description=__doc__)
    parser.add_argument("function", help="a function's logical id in template.yaml, e.g. ChurnSweepFunction")
    parser.add_argument("--event", type=Path, help="the event file (default: the function's sample in events/)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--time", help="the run's time, ISO 8601 (sets the event's `time`)")
    when.add_argument("--in-days", type=float, help="the run's time, this many days from now")
    parser.add_argument("--port", type=int, default=ports.lambda_port(), help="the Invoke API's port")
    args = parser.parse_args()

    path = args.event or (ROOT / "events" / SAMPLES[args.function] if args.function in SAMPLES else None)
    event = json.loads(path.read_text()) if path else {}
    # A sample's own `time` is the day it was written: a run at it would silently settle nothing due today.
    if args.time:
        event["time"] = args.time
    elif args.in_days is not None or "time" in event:
        event["time"] = (datetime.now(UTC) + timedelta(days=args.in_days or 0)).strftime("%Y-%m-%dT%H:%M:%SZ")
    url = f"http://127.0.0.1:{args.port}/2015-03-31/functions/{args.function}/invocations"
    print(f"invoking {url}", file=sys.stderr)
    print(f"  run's time: {event.get('time', 'none in the event (the function reads the clock)')}", file=sys.stderr)
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=900) as resp:  # loopback only; sweeps return when done
            text = resp.read().decode()
            function_error = resp.headers.get("X-Amz-Function-Error")
    except ConnectionRefusedError as err:
        sys.exit(f"no runtime at {url} ({err}): is `python -m local` running with these API_PORT / LAMBDA_PORT?")
    except urllib.error.URLError as err:
        sys.exit(f"no runtime at {url} ({err.reason}): is `python -m local` running with these API_PORT / LAMBDA_PORT?")
    print(text)
    # The answer's `work` counts what became of the work the run queued: a run whose work failed (back
    # after the queue's visibility timeout) or was dead-lettered did not succeed, nor did the function.
    answer = json.loads(text) if text else None
    work = answer.get("work", {}) if isinstance(answer, dict) else {}
    if function_error or work.get("failed") or work.get("dead_lettered"):
        why = f"function error ({function_error})" if function_error else "work failed"
        sys.exit(f"{args.function}: {why}; work {json.dumps(work)}")


if __name__ == "__main__":
    main()
