"""Read template.yaml the way the local runtime needs it: functions, their routes and env, tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


# Local values of the pseudo parameters: the region and the dummy account the runtime's credentials imply.
PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "000000000000",
    "AWS::Partition": "aws",
    "AWS::StackName": "local",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/local/local",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}
ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:us-east-1:000000000000:table/{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:us-east-1:000000000000:{name}",
    "AWS::Serverless::Function": "arn:aws:lambda:us-east-1:000000000000:function:{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
}


class _CfnLoader(yaml.SafeLoader):
    """Understands CloudFormation's short tags (!Ref, !GetAtt, !Sub...) as their long forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass
class Route:
    method: str
    path: str  # /programs/{program_id}/members
    auth: str  # "jwt", "iam" or "none"
    function: str
    pattern: re.Pattern[str] = field(init=False)
    literal_segments: int = field(init=False)

    def __post_init__(self) -> None:
        segments = self.path.strip("/").split("/")
        regex = "/".join(f"(?P<{s[1:-1]}>[^/]+)" if s.startswith("{") else re.escape(s) for s in segments)
        self.pattern = re.compile(f"/{regex}")  # fullmatch: `$` would match before a trailing newline
        self.literal_segments = sum(1 for s in segments if not s.startswith("{"))


@dataclass
class Function:
    name: str
    code_dir: Path
    handler: str
    timeout: int
    env: dict[str, str]
    layer_dirs: list[Path]
    routes: list[Route]
    memory: int = 128  # MemorySize, for the fake context

    @property
    def reserved_env(self) -> dict[str, str]:
        """What Lambda itself sets in a function's environment. Libraries read it: the X-Ray SDK, for
        one, skips creating its sampling client when it sees LAMBDA_TASK_ROOT."""
        return {
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "LAMBDA_TASK_ROOT": str(self.code_dir),
        }


@dataclass
class SqsSource:
    function: str
    queue: str  # logical id
    batch_size: int


@dataclass(frozen=True)
class S3Source:
    """A function's S3 event: objects created in `bucket` (logical id) whose key has prefix and suffix."""

    function: str
    bucket: str
    prefix: str
    suffix: str

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True)
class StreamConsumer:
    """A reader of a table's stream: an EventBridge Pipe (its enrichment function gets a list of
    records, and returns the events for the bus) or a function's DynamoDB event ({"Records": [...]})."""

    name: str
    table: str
    function: str | None
    pipe: bool


@dataclass
class Template:
    raw: dict[str, Any]
    path: Path
    refs: dict[str, str] = field(default_factory=dict)  # local values of !Ref (a queue's URL...)

    @property
    def resources(self) -> dict[str, Any]:
        return self.raw.get("Resources", {})

    def parameter(self, name: str) -> str | None:
        param = self.raw.get("Parameters", {}).get(name)
        return None if param is None else str(param.get("Default", ""))

    def resolve(self, value: Any) -> str:  # noqa: PLR0911 - one return per intrinsic function
        """A best-effort local value: tables are named by logical id, parameters take their default."""
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                if arg in self.refs:
                    return self.refs[arg]
                if arg in PSEUDO_PARAMETERS:
                    return PSEUDO_PARAMETERS[arg]
                default = self.parameter(arg)
                return default if default is not None else str(arg)
            if fn == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self._attribute(name, attr)
            if fn == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                return re.sub(r"\$\{(!?)([^}]+)\}", lambda m: self._sub(m.group(1), m.group(2), names), text)
            if fn == "Fn::Join":
                return str(arg[0]).join(self.resolve(item) for item in arg[1])
            if fn == "Fn::Select" and isinstance(arg[1], list):
                return self.resolve(arg[1][int(self.resolve(arg[0]))])
            if fn == "Fn::If":
                return self.resolve(arg[1])  # conditions are not evaluated locally: the "true" branch
        if isinstance(value, bool):
            return str(value).lower()  # as CloudFormation renders a YAML boolean
        return str(value)

    def _sub(self, bang: str, name: str, names: dict[str, Any]) -> str:
        if bang:
            return "${" + name + "}"  # ${!Literal} is Sub's escape for a literal ${Literal}
        if name in names:
            return self.resolve(names[name])
        if "." in name and not name.startswith("AWS::"):
            return self.resolve({"Fn::GetAtt": name.split(".", 1)})
        return self.resolve({"Ref": name})

    def _attribute(self, name: str, attr: str) -> str:
        """ARNs shaped like AWS's for the resources handlers may be given; `Name.Attr` otherwise."""
        kind = self.resources.get(name, {}).get("Type", "")
        arn = ARN_FORMATS.get(kind)
        if attr == "Arn" and arn:
            return arn.format(name=name)
        if attr == "StreamArn" and kind == "AWS::DynamoDB::Table":
            return ARN_FORMATS[kind].format(name=name) + "/stream/local"
        if attr == "QueueName" and kind == "AWS::SQS::Queue":
            return name
        return f"{name}.{attr}"

    def tables(self) -> dict[str, dict[str, Any]]:
        return {
            name: r.get("Properties", {})
            for name, r in self.resources.items()
            if r.get("Type") == "AWS::DynamoDB::Table"
        }

    def api_senders(self) -> set[str]:
        """Functions that only serve routes and send to a queue (a grant's PUT): the local API drains the
        queues after their requests, as the event source mapping would pick the messages up."""
        out = set()
        for name, r in self.resources.items():
            props = r.get("Properties", {})
            if r.get("Type") != "AWS::Serverless::Function" or not props.get("Events"):
                continue
            sends = any(isinstance(p, dict) and "SQSSendMessagePolicy" in p for p in props.get("Policies", []))
            if sends and all(e.get("Type") == "HttpApi" for e in props["Events"].values()):
                out.add(name)
        return out

    def queues(self) -> dict[str, dict[str, Any]]:
        return {
            name: r.get("Properties", {}) for name, r in self.resources.items() if r.get("Type") == "AWS::SQS::Queue"
        }

    def sqs_sources(self) -> list[SqsSource]:
        """Event source mappings: which function consumes which queue, in batches of how many."""
        out = []
        for name, res in self.resources.items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            for event in res.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") == "SQS":
                    queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                    out.append(SqsSource(name, queue, int(event["Properties"].get("BatchSize", 10))))
        return out

    def buckets(self) -> dict[str, str]:
        """Logical id -> the bucket's name (its BucketName resolved, or the id in lower case)."""
        return {
            name: self.resolve(r["Properties"]["BucketName"])
            if "BucketName" in r.get("Properties", {})
            else name.lower()
            for name, r in self.resources.items()
            if r.get("Type") == "AWS::S3::Bucket"
        }

    def s3_sources(self) -> list[S3Source]:
        out = []
        for name, res in self.resources.items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            for event in res.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") == "S3":
                    props = event["Properties"]
                    rules = {r["Name"]: r["Value"] for r in props.get("Filter", {}).get("S3Key", {}).get("Rules", [])}
                    out.append(S3Source(name, props["Bucket"]["Ref"], rules.get("prefix", ""), rules.get("suffix", "")))
        return out

    def stream_consumers(self) -> list[StreamConsumer]:
        """Pipes whose source is a table's stream (`!GetAtt Table.StreamArn`), and functions with a
        `DynamoDB` event on one."""
        out = []
        for name, res in self.resources.items():
            props = res.get("Properties", {})
            if res.get("Type") == "AWS::Pipes::Pipe":
                source = props.get("Source", {}).get("Fn::GetAtt", [None, None])
                if source[1] == "StreamArn":
                    enrichment = props.get("Enrichment", {}).get("Fn::GetAtt", [None])[0]
                    out.append(StreamConsumer(name, source[0], enrichment, pipe=True))
            elif res.get("Type") == "AWS::Serverless::Function":
                for event_name, event in props.get("Events", {}).items():
                    if event.get("Type") == "DynamoDB":
                        table = event["Properties"]["Stream"]["Fn::GetAtt"][0]
                        out.append(StreamConsumer(f"{name}.{event_name}", table, name, pipe=False))
        return out

    def scheduled(self) -> list[str]:
        """Functions with a schedule (EventBridge Scheduler or a rule): what `/_local/scheduled` runs."""
        out = []
        for name, res in self.resources.items():
            events = res.get("Properties", {}).get("Events", {}).values()
            if res.get("Type") == "AWS::Serverless::Function" and any(
                e.get("Type") in ("ScheduleV2", "Schedule") for e in events
            ):
                out.append(name)
        return out

    def jwt_authorizers(self) -> set[str]:
        names: set[str] = set()
        for r in self.resources.values():
            if r.get("Type") == "AWS::Serverless::HttpApi":
                for name, spec in r.get("Properties", {}).get("Auth", {}).get("Authorizers", {}).items():
                    if "JwtConfiguration" in spec:
                        names.add(name)
        return names

    def functions(self) -> dict[str, Function]:
        glob = self.raw.get("Globals", {}).get("Function", {})
        jwt = self.jwt_authorizers()
        out: dict[str, Function] = {}
        for name, res in self.resources.items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            props = res.get("Properties", {})
            env = {k: self.resolve(v) for k, v in glob.get("Environment", {}).get("Variables", {}).items()}
            env |= {k: self.resolve(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
            layers = [self._layer_dir(ref) for ref in glob.get("Layers", []) + props.get("Layers", [])]
            routes = []
            for event in props.get("Events", {}).values():
                if event.get("Type") != "HttpApi":
                    continue
                spec = event.get("Properties", {})
                authorizer = spec.get("Auth", {}).get("Authorizer")
                auth = "jwt" if authorizer in jwt else ("none" if authorizer == "NONE" else "iam")
                routes.append(Route(spec["Method"].upper(), spec["Path"], auth, name))
            out[name] = Function(
                name=name,
                code_dir=self.path.parent / props["CodeUri"],
                handler=props.get("Handler", glob.get("Handler", "app.handler")),
                timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
                env=env,
                layer_dirs=[d for d in layers if d is not None],
                routes=routes,
                memory=int(props.get("MemorySize", glob.get("MemorySize", 128))),
            )
        return out

    def _layer_dir(self, ref: Any) -> Path | None:
        name = ref.get("Ref") if isinstance(ref, dict) else None
        layer = self.resources.get(name or "", {})
        uri = layer.get("Properties", {}).get("ContentUri")
        return self.path.parent / uri if isinstance(uri, str) else None


def load_template(path: Path = TEMPLATE) -> Template:
    return Template(raw=yaml.load(path.read_text(), Loader=_CfnLoader), path=path)
