"""Each function runs in worker processes, like Lambda's containers.

Powertools keeps the current request on a class attribute, and a Lambda container serves one request
at a time, so a handler must never see two requests at once in one interpreter. A pool per function
starts a new "container" (a spawned process that imports the handler once) when every warm one is
busy, up to a cap, which gives real parallelism and real cold and warm starts.
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from .template import Function


class FakeContext:
    def __init__(self, function: str, timeout: int, memory: int = 128) -> None:
        self.function_name = function
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _serve(function: Function, env: dict[str, str], conn: Connection) -> None:
    """The body of one container: import the handler once, then serve invocations one by one."""
    # Ctrl-C reaches the whole process group; the runtime stops its containers itself, quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.update(env)
    for path in [function.code_dir, *function.layer_dirs]:
        sys.path.insert(0, str(path))
    module_name, attr = function.handler.rsplit(".", 1)
    spec = importlib.util.spec_from_file_location(module_name, function.code_dir / f"{module_name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler = getattr(module, attr)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", handler(event, FakeContext(function.name, function.timeout, function.memory))))
        except Exception as exc:
            traceback.print_exc()
            conn.send(
                (
                    "error",
                    {
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "stackTrace": traceback.format_exc().splitlines(),
                    },
                )
            )


class Container:
    def __init__(self, function: Function, env: dict[str, str]) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(function, env, child), daemon=True, name=f"lambda:{function.name}"
        )
        self.process.start()
        child.close()
        status, _ = self.conn.recv()  # the cold start: imports done
        assert status == "ready"

    def invoke(self, event: Any) -> tuple[str, Any]:
        self.conn.send(event)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.close()
        self.process.terminate()


class Pool:
    """Warm containers of one function; a busy pool grows up to `limit`, then callers wait."""

    def __init__(self, function: Function, env: dict[str, str], limit: int) -> None:
        self.function, self.env, self.limit = function, env, limit
        self.idle: list[Container] = []
        self.count = 0
        self.cond = threading.Condition()

    def _acquire(self) -> Container:
        with self.cond:
            while not self.idle and self.count >= self.limit:
                self.cond.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            return Container(self.function, self.env)
        except BaseException:
            with self.cond:
                self.count -= 1
                self.cond.notify()
            raise

    def invoke(self, event: Any) -> tuple[str, Any]:
        container = self._acquire()
        try:
            result = container.invoke(event)
        except (EOFError, OSError):
            with self.cond:  # the container died: drop it, as Lambda would
                self.count -= 1
                self.cond.notify()
            raise
        with self.cond:
            self.idle.append(container)
            self.cond.notify()
        return result

    def stop(self) -> None:
        with self.cond:
            for container in self.idle:
                container.stop()
            self.idle.clear()


class Runtime:
    """All functions of the template, each with its pool of containers."""

    def __init__(self, functions: dict[str, Function], env: dict[str, str], limit: int = 8) -> None:
        self.functions = functions
        self.pools = {name: Pool(fn, {**fn.reserved_env, **fn.env, **env}, limit) for name, fn in functions.items()}
        # Drains the queues (set by the stack): how many messages settled, failed, were dead-lettered.
        self.settle: Callable[[], dict[str, int]] = dict

    def invoke(self, name: str, event: Any) -> tuple[str, Any]:
        return self.pools[name].invoke(event)

    def invoke_and_settle(self, name: str, event: Any) -> tuple[str, Any, dict[str, int]]:
        """An invoke that returns only after the work it queued has been delivered: its status and
        result, and what became of that work (`settle`'s counts)."""
        status, result = self.invoke(name, event)
        return status, result, self.settle()

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()
