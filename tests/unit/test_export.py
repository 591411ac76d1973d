"""The analytics export (template.yaml): the export bucket, the Glue table over DynamoDB's export, the
Athena workgroup, its saved views and queries, and the operator's policy. The SQL is checked against
the table it reads (every column it names is defined), and its logic against a sample export written
with the store's own item builders, read the way the table's SerDe reads it."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from local.template import load_template
from loyalty.member import LedgerEntry, Profile
from loyalty.program import Program
from loyalty.store.keys import member_pk
from loyalty.store.programs import Programs
from loyalty.store.writes import created_puts, profile_put

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
RESOURCES = TEMPLATE.resources
VIEWS = {"members": "MembersViewQuery", "ledger": "LedgerViewQuery", "programs": "ProgramsViewQuery"}
QUERIES = ("PointsLiabilityQuery", "TierDistributionQuery")


def _props(name: str) -> dict[str, Any]:
    return RESOURCES[name]["Properties"]


def _sql(name: str) -> str:
    return str(_props(name)["QueryString"])


# ---- the Glue column's type: Hive's type grammar, parsed ------------------------------------------


def _item_type() -> str:
    (column,) = _props("ExportItemsTable")["TableInput"]["StorageDescriptor"]["Columns"]
    assert column["Name"] == "item"
    separator, parts = column["Type"]["Fn::Join"]
    return separator.join(parts)


def parse_type(text: str) -> Any:
    """'struct<a:string,b:map<string,struct<n:string>>>' -> {"a": "string", "b": ("map", "string", {...})};
    arrays are ("array", element). Raises on anything malformed."""
    tokens = re.findall(r"[a-z_][a-z0-9_]*|[<>:,]", text)
    assert "".join(tokens) == text, f"unexpected characters in {text!r}"
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        token = tokens[pos]
        assert expected is None or token == expected, f"{expected} expected at {token!r}"
        pos += 1
        return token

    def one() -> Any:
        name = take()
        if name == "struct":
            take("<")
            fields: dict[str, Any] = {}
            while True:
                field = take()
                assert field not in fields, f"{field} twice"
                take(":")
                fields[field] = one()
                if take() == ">":
                    return fields
        if name == "map":
            take("<")
            key = one()
            take(",")
            value = one()
            take(">")
            return ("map", key, value)
        if name == "array":
            take("<")
            element = one()
            take(">")
            return ("array", element)
        assert name in ("string", "bigint", "int", "boolean", "double"), name
        return name

    parsed = one()
    assert pos == len(tokens)
    return parsed


ITEM = parse_type(_item_type())


# ---- the deployable ---------------------------------------------------------------------------------


def test_the_table_keeps_point_in_time_recovery_which_an_export_needs() -> None:
    spec = _props("LoyaltyTable")["PointInTimeRecoverySpecification"]
    assert spec == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize("bucket", ["ExportBucket", "ExportLogBucket"])
def test_the_buckets_are_encrypted_private_versioned_expiring_and_tls_only(bucket: str) -> None:
    props = _props(bucket)
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    block = props["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["LifecycleConfiguration"]["Rules"]
    assert all(r["Status"] == "Enabled" for r in rules)
    assert any("NoncurrentVersionExpiration" in r for r in rules)  # versioning keeps nothing for long
    assert any("AbortIncompleteMultipartUpload" in r for r in rules)

    policies = [r for r in RESOURCES.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    (policy,) = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": bucket}]
    deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny == [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_exports_expire_after_the_retention_and_reads_of_them_are_logged() -> None:
    props = _props("ExportBucket")
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["exports"]["Prefix"] == "exports/"
    assert rules["exports"]["ExpirationInDays"] == {"Ref": "ExportRetentionDays"}
    assert rules["query-results"]["Prefix"] == "athena/"
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "ExportLogBucket"}
    assert TEMPLATE.raw["Parameters"]["ExportRetentionDays"]["Default"] == 30


def test_the_items_table_reads_the_named_exports_data_files_with_the_json_serde() -> None:
    assert _props("ExportDatabase")["DatabaseInput"]["Name"] == {"Fn::Sub": "loyalty_${Stage}"}
    table = _props("ExportItemsTable")
    assert table["DatabaseName"] == {"Ref": "ExportDatabase"}
    spec = table["TableInput"]
    assert spec["Name"] == "items" and spec["TableType"] == "EXTERNAL_TABLE"
    storage = spec["StorageDescriptor"]
    # The data files only (the export's manifests are one level up), of the export the stack names.
    assert storage["Location"] == {"Fn::Sub": "s3://${ExportBucket}/exports/AWSDynamoDB/${ExportId}/data/"}
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    export_id = TEMPLATE.raw["Parameters"]["ExportId"]
    assert export_id["Default"] == "none"
    assert re.fullmatch(export_id["AllowedPattern"], "01715000000000-0a1b2c3d")
    assert not re.fullmatch(export_id["AllowedPattern"], "../other")

    # Every attribute is DynamoDB JSON: a struct of its type tag.
    assert isinstance(ITEM, dict) and {"pk", "sk", "type", "program_id", "member_id", "tier_id", "buckets"} <= set(ITEM)
    assert all(isinstance(t, dict) and len(t) == 1 and set(t) <= {"s", "n", "m", "l"} for t in ITEM.values())
    assert ITEM["buckets"] == {"m": ("map", "string", {"n": "string"})}
    assert ITEM["tags"] == {"l": ("array", {"s": "string"})}
    assert "birthday" not in ITEM  # analytics does not need it


def test_the_workgroup_writes_encrypted_results_into_the_export_bucket_and_enforces_it() -> None:
    config = _props("AnalyticsWorkGroup")["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    results = config["ResultConfiguration"]
    assert results["OutputLocation"] == {"Fn::Sub": "s3://${ExportBucket}/athena/"}
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
    assert 0 < config["BytesScannedCutoffPerQuery"] <= 2**40
    for name in (*VIEWS.values(), *QUERIES):
        props = _props(name)
        assert props["Database"] == {"Ref": "ExportDatabase"} and props["WorkGroup"] == {"Ref": "AnalyticsWorkGroup"}


def _statements(policy: str) -> dict[str, dict[str, Any]]:
    document = _props(policy)["PolicyDocument"]
    assert RESOURCES[policy]["Type"] == "AWS::IAM::ManagedPolicy"
    return {s["Sid"]: s for s in document["Statement"]}


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_operator_policy_starts_and_follows_an_export_into_the_export_prefix_only() -> None:
    statements = _statements("ExportOperatorPolicy")
    assert all(s["Effect"] == "Allow" for s in statements.values())
    granted = {a for s in statements.values() for a in _actions(s)}
    assert granted == {
        "dynamodb:ExportTableToPointInTime",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeExport",
        "s3:PutObject",
        "s3:PutObjectAcl",
        "s3:AbortMultipartUpload",
    }
    assert statements["StartExport"]["Resource"] == {"Fn::GetAtt": ["LoyaltyTable", "Arn"]}
    assert statements["FollowExport"]["Resource"] == {"Fn::Sub": "${LoyaltyTable.Arn}/export/*"}
    assert statements["WriteExport"]["Resource"] == {"Fn::Sub": "${ExportBucket.Arn}/exports/*"}
    assert not any(a.startswith(("dynamodb:Get", "dynamodb:Query", "dynamodb:Scan", "s3:Get")) for a in granted)


def test_the_analyst_policy_queries_in_the_workgroup_and_never_reaches_the_table() -> None:
    statements = _statements("ExportAnalystPolicy")
    granted = {a for s in statements.values() for a in _actions(s)}
    assert {"athena:StartQueryExecution", "athena:GetQueryResults", "glue:GetTable", "s3:GetObject"} <= granted
    assert not any(a.startswith("dynamodb:") for a in granted)
    assert statements["Workgroup"]["Resource"]["Fn::Sub"].endswith(":workgroup/${AnalyticsWorkGroup}")
    tables = {r["Fn::Sub"].rsplit("/", 1)[1] for r in statements["Catalog"]["Resource"] if ":table/" in r["Fn::Sub"]}
    assert tables == {"items", *VIEWS}
    assert statements["ReadExports"]["Resource"] == {"Fn::Sub": "${ExportBucket.Arn}/exports/*"}
    assert statements["QueryResults"]["Resource"] == {"Fn::Sub": "${ExportBucket.Arn}/athena/*"}


def test_the_stack_tells_the_operator_what_to_use() -> None:
    outputs = TEMPLATE.raw["Outputs"]
    assert outputs["ExportBucketName"]["Value"] == {"Ref": "ExportBucket"}
    assert outputs["ExportOperatorPolicyArn"]["Value"] == {"Ref": "ExportOperatorPolicy"}
    assert outputs["ExportAnalystPolicyArn"]["Value"] == {"Ref": "ExportAnalystPolicy"}
    assert outputs["AnalyticsWorkGroupName"]["Value"] == {"Ref": "AnalyticsWorkGroup"}


# ---- the SQL names only what the tables define -------------------------------------------------------


def select_columns(sql: str) -> list[str]:
    """A query's output columns: one per line of its select list, `AS name` or the column it names."""
    head, _, _ = sql.partition("\nFROM ")
    lines = head.split("SELECT\n", 1)[1].split("\n")
    return [re.search(r"(?:\bAS |\.)(\w+),?$", line.strip()).group(1) for line in lines]  # type: ignore[union-attr]


def _strip_strings(sql: str) -> str:
    return re.sub(r"'[^']*'", "''", sql)


def test_the_views_read_only_attributes_the_items_table_defines_with_their_type() -> None:
    for view, name in VIEWS.items():
        sql = _sql(name)
        assert sql.startswith(f"CREATE OR REPLACE VIEW {view} AS\nSELECT\n"), name
        assert re.findall(r"\bFROM (\w+)", sql) == ["items"], name
        paths = re.findall(r"\bitem\.(\w+)\.(\w+)", _strip_strings(sql))
        assert paths, name
        for attribute, tag in paths:
            assert attribute in ITEM, f"{name}: item.{attribute} is not a column of items"
            assert tag in ITEM[attribute], f"{name}: item.{attribute} has no {tag}"
        # Every reference to the row goes through a defined path (no item.x without its type tag).
        assert len(re.findall(r"\bitem\.", sql)) == len(paths), name
        columns = select_columns(sql)
        assert len(columns) == len(set(columns)) and columns, name


SQL_WORDS = {
    "select", "as", "from", "join", "on", "group", "by", "order", "desc", "over", "partition",
    "count", "sum", "cast", "decimal", "double", "coalesce", "round",
}  # fmt: skip


def test_the_documented_queries_name_only_columns_of_the_views() -> None:
    columns = {view: set(select_columns(_sql(name))) for view, name in VIEWS.items()}
    for name in QUERIES:
        sql = _strip_strings(_sql(name))
        aliases = dict(re.findall(r"\b(?:FROM|JOIN) (\w+) (\w+)\b", sql))
        assert aliases and set(aliases) <= set(columns), name
        by_alias = {alias: view for view, alias in aliases.items()}
        qualified = re.findall(r"\b(\w+)\.(\w+)\b", sql)
        assert qualified, name
        for alias, column in qualified:
            assert alias in by_alias, f"{name}: {alias}.{column}: no such table"
            assert column in columns[by_alias[alias]], f"{name}: {by_alias[alias]} has no column {column}"
        # Nothing unqualified but SQL, the output's names, the views and their aliases.
        bare = re.sub(r"\b\w+\.\w+\b", " ", sql)
        outputs = set(re.findall(r"\bAS (\w+)", sql))
        words = {w for w in re.findall(r"\b[A-Za-z_]\w*\b", bare) if not w.isdigit()}
        unknown = {w for w in words if w.lower() not in SQL_WORDS} - outputs - set(aliases) - set(by_alias)
        assert not unknown, f"{name}: {sorted(unknown)}"


# ---- the SQL's logic on a sample export ------------------------------------------------------------


class _Capture:
    """A DynamoDB client that keeps what a transaction writes."""

    def __init__(self) -> None:
        self.meta = SimpleNamespace(events=SimpleNamespace(register=lambda *_: None))
        self.items: list[dict[str, Any]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:  # boto3's name
        self.items += [t["Put"]["Item"] for t in TransactItems]


def _program(file: str, value: dict[str, int] | None) -> dict[str, Any]:
    doc = json.loads((ROOT / "programs" / file).read_text())
    if value is None:
        del doc["points"]["value"]
    else:
        doc["points"]["value"] = value
    Program.model_validate(doc)
    return doc


AT = datetime(2026, 3, 1, tzinfo=UTC)
PROGRAMS = {"demo": _program("demo.json", {"points": 3, "worth_minor": 2}), "plain": _program("points-only.json", None)}
MEMBERS = [
    Profile(
        program_id="demo", member_id="m1", enrolled_at=AT, tier_id="gold", buckets={"2026-12-31": 1000, "2027-03-31": 5}
    ),
    Profile(program_id="demo", member_id="m2", enrolled_at=AT, tier_id="gold", buckets={"2026-06-30": 7}),
    Profile(program_id="demo", member_id="m3", enrolled_at=AT, tier_id="star", buckets={}),
    Profile(program_id="demo", member_id="m4", enrolled_at=AT, tier_id="diamond", buckets={"9999-12-31": 10**12}),
    Profile(program_id="plain", member_id="p1", enrolled_at=AT, buckets={"2026-04-30": 250}, tags=["vip"]),
    Profile(program_id="plain", member_id="p2", enrolled_at=AT, buckets={"2026-04-30": 1}),
]


def _export_lines() -> list[str]:
    """Every item the store would hold for the sample, each as an export line: {"Item": ...}."""
    items: list[dict[str, Any]] = []
    for pid, doc in PROGRAMS.items():
        client = _Capture()
        Programs("loyalty", client).put_program(pid, doc, 1, "2026-03-01T00:00:00Z")
        items += client.items  # CONFIG, CONFIG#v000001, the registry's item
    for profile in MEMBERS:
        pk = member_pk(profile.program_id, profile.member_id)
        items.append(profile_put("loyalty", pk, profile, None)[1]["Put"]["Item"])
        entries = [
            LedgerEntry(entry_id=f"{n:012d}", type="earn", points=p, balance_after=p, at=AT)
            for n, p in enumerate(profile.buckets.values(), 1)
        ]
        change = SimpleNamespace(profile=profile, entries=entries, coupons=[], notices=[], tier_changes=[])
        items += [put["Put"]["Item"] for _, put in created_puts("loyalty", pk, change)]  # type: ignore[arg-type]
    return [json.dumps({"Item": item}) for item in items]


def serde(value: Any, kind: Any) -> Any:
    """What the OpenX SerDe gives a column of this type for a JSON value: keys matched case-insensitively,
    undeclared keys dropped, null where the value is missing or of another shape."""
    if value is None:
        return None
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            return None
        lowered = {k.lower(): v for k, v in value.items()}
        return {field: serde(lowered.get(field), sub) for field, sub in kind.items()}
    if isinstance(kind, tuple) and kind[0] == "map":
        return {k: serde(v, kind[2]) for k, v in value.items()} if isinstance(value, dict) else None
    if isinstance(kind, tuple) and kind[0] == "array":
        return [serde(v, kind[1]) for v in value] if isinstance(value, list) else None
    return value if isinstance(value, str) else None  # every leaf we declare is a string


def read_items(folder: Path) -> list[dict[str, Any]]:
    """SELECT item FROM items: every line of every data file under the table's location."""
    rows = []
    for file in sorted(folder.glob("*.json.gz")):
        with gzip.open(file, "rt") as lines:
            rows += [serde(json.loads(line), {"item": ITEM})["item"] for line in lines if line.strip()]
    return rows


def _s(item: dict[str, Any], attribute: str) -> str | None:
    return (item[attribute] or {}).get("s")


def _n(item: dict[str, Any], attribute: str) -> int | None:
    raw = (item[attribute] or {}).get("n")
    return None if raw is None else int(raw)


# The views, column by column as their SQL computes them (the test below checks the names agree),
# filtering rows as their WHERE clause does (pinned here: the functions implement these).
WHERE = {
    "MembersViewQuery": "item.sk.s = 'PROFILE' AND starts_with(item.pk.s, 'MEMBER#') AND item.erased_at.s IS NULL",
    "LedgerViewQuery": "starts_with(item.sk.s, 'LEDGER#') AND starts_with(item.pk.s, 'MEMBER#')",
    "ProgramsViewQuery": "item.sk.s = 'CONFIG' AND starts_with(item.pk.s, 'PROGRAM#')",
}


def members_view(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        if _s(item, "sk") != "PROFILE" or not (_s(item, "pk") or "").startswith("MEMBER#"):
            continue
        if _s(item, "erased_at") is not None:  # an erased member's pseudonymised profile
            continue
        buckets = {k: int(v["n"]) for k, v in ((item["buckets"] or {}).get("m") or {}).items()}
        tags = (item["tags"] or {}).get("l")
        rows.append(
            {
                "program_id": _s(item, "program_id"),
                "member_id": _s(item, "member_id"),
                "version": _n(item, "version"),
                "enrolled_at": _s(item, "enrolled_at"),
                "channel": _s(item, "channel"),
                "lifecycle_stage": _s(item, "lifecycle_stage"),
                "tier_id": _s(item, "tier_id"),
                "tier_since": _s(item, "tier_since"),
                "segment": _s(item, "segment"),
                "buckets": buckets,
                "balance": sum(buckets.values()),
                "lifetime_earned": _n(item, "lifetime_earned"),
                "orders_total": _n(item, "orders_total"),
                "lifetime_spend_minor": _n(item, "lifetime_spend_minor"),
                "last_purchase_at": _s(item, "last_purchase_at"),
                "last_activity_at": _s(item, "last_activity_at"),
                "tags": None if tags is None else [t["s"] for t in tags],
            }
        )
    return rows


def ledger_view(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        pk = _s(item, "pk") or ""
        if not (_s(item, "sk") or "").startswith("LEDGER#") or not pk.startswith("MEMBER#"):
            continue
        parts = pk.split("#")
        rows.append(
            {
                "program_id": parts[1],
                "member_id": parts[2],
                "entry_id": _s(item, "entry_id"),
                "type": _s(item, "type"),
                "points": _n(item, "points"),
                "balance_after": _n(item, "balance_after"),
                **{c: _s(item, c) for c in ("at", "ref", "reason", "actor")},
            }
        )
    return rows


def programs_view(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        if _s(item, "sk") != "CONFIG" or not (_s(item, "pk") or "").startswith("PROGRAM#"):
            continue
        doc = json.loads(_s(item, "doc") or "{}")
        value = doc.get("points", {}).get("value", {})
        rows.append(
            {
                "program_id": _s(item, "program_id"),
                "version": _n(item, "version"),
                "saved_at": _s(item, "saved_at"),
                "name": doc.get("name"),
                "currency": doc.get("currency"),
                "value_points": value.get("points", 100),
                "value_worth_minor": value.get("worth_minor", 100),
            }
        )
    return rows


def points_liability(members: list[dict[str, Any]], programs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_program = {p["program_id"]: p for p in programs}
    grouped: dict[str, list[int]] = defaultdict(list)
    for m in members:
        if m["program_id"] in by_program:  # the inner join
            grouped[m["program_id"]].append(m["balance"])
    out = []
    for pid in sorted(grouped):
        p, points = by_program[pid], sum(grouped[pid])
        worth = Decimal(points) * p["value_worth_minor"] / p["value_points"]  # decimal(38, 2): half up
        out.append(
            {
                "program_id": pid,
                "currency": p["currency"],
                "members": len(grouped[pid]),
                "points": points,
                "liability_minor": worth.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            }
        )
    return out


def tier_distribution(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = Counter((m["program_id"], m["tier_id"]) for m in members)
    totals = Counter(m["program_id"] for m in members)
    rows = [
        {"program_id": pid, "tier_id": tier or "(none)", "members": n, "percent": round(n * 100 / totals[pid], 2)}
        for (pid, tier), n in counts.items()
    ]
    return sorted(rows, key=lambda r: (r["program_id"], -r["members"]))


def test_the_python_views_and_queries_give_the_sql_columns() -> None:
    """The functions above stand for the SQL: same columns, in the same order."""
    member = serde({"pk": {"S": "MEMBER#p#m"}, "sk": {"S": "PROFILE"}, "program_id": {"S": "p"}}, ITEM)
    entry = serde({"pk": {"S": "MEMBER#p#m"}, "sk": {"S": "LEDGER#000000000001"}}, ITEM)
    program = serde(
        {"pk": {"S": "PROGRAM#p"}, "sk": {"S": "CONFIG"}, "program_id": {"S": "p"}, "doc": {"S": "{}"}}, ITEM
    )
    members, programs = members_view([member]), programs_view([program])
    assert list(members[0]) == select_columns(_sql("MembersViewQuery"))
    assert list(ledger_view([entry])[0]) == select_columns(_sql("LedgerViewQuery"))
    assert list(programs[0]) == select_columns(_sql("ProgramsViewQuery"))
    assert list(points_liability(members, programs)[0]) == select_columns(_sql("PointsLiabilityQuery"))
    assert list(tier_distribution(members)[0]) == select_columns(_sql("TierDistributionQuery"))
    assert members[0]["balance"] == 0 and members[0]["buckets"] == {}  # no buckets: a balance of 0
    for name, where in WHERE.items():
        assert _sql(name).rstrip().endswith(f"\nFROM items\nWHERE {where}"), name


def _written_export(folder: Path) -> Path:
    data = folder / "AWSDynamoDB" / "01772323200000-0a1b2c3d" / "data"
    data.mkdir(parents=True)
    with gzip.open(data / "a1b2c3.json.gz", "wt") as out:
        out.write("\n".join(_export_lines()) + "\n")
    (data.parent / "manifest-summary.json").write_text("{}")  # beside the data, outside the table
    return data


def test_liability_and_tier_distribution_of_a_sample_export(tmp_path: Path) -> None:
    items = read_items(_written_export(tmp_path))
    assert len(items) == len(_export_lines())
    members, ledger, programs = members_view(items), ledger_view(items), programs_view(items)
    assert sorted(m["member_id"] for m in members) == sorted(p.member_id for p in MEMBERS)
    assert {m["member_id"]: m["balance"] for m in members} == {p.member_id: p.balance for p in MEMBERS}
    assert {m["member_id"]: m["tier_id"] for m in members} == {p.member_id: p.tier_id for p in MEMBERS}
    assert [m["tags"] for m in members if m["member_id"] == "p1"] == [["vip"]]
    assert len(ledger) == sum(len(p.buckets) for p in MEMBERS) and {e["type"] for e in ledger} == {"earn"}
    assert {(e["program_id"], e["member_id"]) for e in ledger} == {
        (p.program_id, p.member_id) for p in MEMBERS if p.buckets
    }
    assert sorted(p["program_id"] for p in programs) == ["demo", "plain"]  # not the history, not the registry

    demo_points = 1000 + 5 + 7 + 10**12
    assert points_liability(members, programs) == [
        # 3 points are worth 2 minor: 1,000,000,001,012 * 2 / 3 = 666,666,667,341.33...
        {"program_id": "demo", "currency": "CNY", "members": 4, "points": demo_points,
         "liability_minor": Decimal("666666667341.33")},
        # No points.value in the document: the default, 100 points = 100 minor.
        {"program_id": "plain", "currency": "USD", "members": 2, "points": 251, "liability_minor": Decimal("251.00")},
    ]  # fmt: skip
    assert tier_distribution(members) == [
        {"program_id": "demo", "tier_id": "gold", "members": 2, "percent": 50.0},
        {"program_id": "demo", "tier_id": "star", "members": 1, "percent": 25.0},
        {"program_id": "demo", "tier_id": "diamond", "members": 1, "percent": 25.0},
        {"program_id": "plain", "tier_id": "(none)", "members": 2, "percent": 100.0},
    ]
