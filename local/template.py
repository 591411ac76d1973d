"""Read template.yaml the way the local runtime needs it: functions, their routes and env, tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


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
        self.pattern = re.compile(f"^/{regex}$")
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


@dataclass
class Template:
    raw: dict[str, Any]
    path: Path

    @property
    def resources(self) -> dict[str, Any]:
        return self.raw.get("Resources", {})

    def parameter(self, name: str) -> str | None:
        param = self.raw.get("Parameters", {}).get(name)
        return None if param is None else str(param.get("Default", ""))

    def resolve(self, value: Any) -> str:
        """A best-effort local value: tables are named by logical id, parameters take their default."""
        if isinstance(value, dict) and "Ref" in value:
            ref = value["Ref"]
            return self.parameter(ref) if self.parameter(ref) is not None else str(ref)  # type: ignore[return-value]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return ".".join(value["Fn::GetAtt"])
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: self.resolve({"Ref": m.group(1)}), text)
        return str(value)

    def tables(self) -> dict[str, dict[str, Any]]:
        return {
            name: r.get("Properties", {})
            for name, r in self.resources.items()
            if r.get("Type") == "AWS::DynamoDB::Table"
        }

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
            )
        return out

    def _layer_dir(self, ref: Any) -> Path | None:
        name = ref.get("Ref") if isinstance(ref, dict) else None
        layer = self.resources.get(name or "", {})
        uri = layer.get("Properties", {}).get("ContentUri")
        return self.path.parent / uri if isinstance(uri, str) else None


def load_template(path: Path = TEMPLATE) -> Template:
    return Template(raw=yaml.load(path.read_text(), Loader=_CfnLoader), path=path)
