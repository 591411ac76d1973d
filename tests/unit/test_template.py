"""template.yaml and the code agree: every route is served by its function, every function has an event."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from local.template import Template, load_template
from loyalty.http import docs

ROOT = Path(__file__).resolve().parents[2]


def test_every_template_route_is_a_route_of_the_code() -> None:
    app = docs.app()
    routes = app._static_routes + app._dynamic_routes  # Powertools has no public listing of routes
    served = {(route.method.upper(), route.openapi_path) for route in routes}
    for fn in load_template().functions().values():
        for route in fn.routes:
            assert (route.method, route.path) in served, f"{fn.name}: {route.method} {route.path} has no handler"


def test_every_function_has_a_sample_event_and_least_privilege() -> None:
    template = load_template()
    for name, fn in template.functions().items():
        folder = fn.code_dir.name.replace("_", "-")
        assert list((ROOT / "events").glob(f"{folder}-*.json")), f"no sample event for {name}"
        for policy in template.resources[name]["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                assert "*" not in str(statement["Action"]) and statement["Resource"] != "*", name


# ---- security and reliability of the deployable ----------------------------------------------------


def test_traces_carry_no_member_data() -> None:
    for name, fn in load_template().functions().items():
        assert fn.env.get("POWERTOOLS_TRACER_CAPTURE_RESPONSE") == "false", name


MEMBER_PREFIX = "/programs/{program_id}/me"
PUBLIC_PATHS = {"/openapi.json", "/docs"}


def _events(template: Template, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, event properties) of every event of one type."""
    return [
        (name, event_name, event.get("Properties", {}))
        for name, res in template.resources.items()
        if res.get("Type") == "AWS::Serverless::Function"
        for event_name, event in res.get("Properties", {}).get("Events", {}).items()
        if event.get("Type") == kind
    ]


def _of_type(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template.resources.items() if res.get("Type") == kind}


def _is_member_path(path: str) -> bool:
    return path == MEMBER_PREFIX or path.startswith(MEMBER_PREFIX + "/")


def test_server_routes_use_iam_member_routes_the_jwt_and_only_the_docs_are_public() -> None:
    template = load_template()
    apis = _of_type(template, "AWS::Serverless::HttpApi")
    assert list(apis) == ["LoyaltyApi"]
    auth = apis["LoyaltyApi"]["Properties"]["Auth"]
    assert auth["EnableIamAuthorizer"] is True and auth["DefaultAuthorizer"] == "AWS_IAM"
    assert "JwtConfiguration" in auth["Authorizers"]["MemberJwt"]

    routes = _events(template, "HttpApi")
    assert routes
    public = set()
    for fn, event, spec in routes:
        assert spec["ApiId"] == {"Ref": "LoyaltyApi"}, f"{fn}.{event}"
        authorizer = spec.get("Auth", {}).get("Authorizer")
        if _is_member_path(spec["Path"]):
            assert authorizer == "MemberJwt", f"{fn}.{event}: {spec['Path']} must take the member JWT"
        elif authorizer == "NONE":
            public.add(spec["Path"])
        else:
            # No override: the API's default, IAM (an explicit AWS_IAM says the same).
            assert authorizer in (None, "AWS_IAM"), f"{fn}.{event}: {spec['Path']} must use IAM"
    assert public == PUBLIC_PATHS


def test_the_api_is_throttled_and_logs_every_request() -> None:
    for name, api in _of_type(load_template(), "AWS::Serverless::HttpApi").items():
        settings = api["Properties"]["DefaultRouteSettings"]
        assert settings["ThrottlingBurstLimit"] > 0 and settings["ThrottlingRateLimit"] > 0, name
        assert api["Properties"]["AccessLogSettings"]["DestinationArn"], name


def test_the_member_authorizer_trusts_the_optional_user_pool_or_the_given_provider() -> None:
    template = load_template()
    assert template.raw["Parameters"]["CreateUserPool"]["Default"] == "false"
    assert template.raw["Conditions"]["WithUserPool"] == {"Fn::Equals": [{"Ref": "CreateUserPool"}, "true"]}
    pools = _of_type(template, "AWS::Cognito::UserPool") | _of_type(template, "AWS::Cognito::UserPoolClient")
    assert sorted(pools) == ["ConsoleUserPoolClient", "MemberUserPool", "MemberUserPoolClient"]
    assert all(res["Condition"] == "WithUserPool" for res in pools.values())

    jwt = template.resources["LoyaltyApi"]["Properties"]["Auth"]["Authorizers"]["MemberJwt"]["JwtConfiguration"]
    condition, pool_issuer, given_issuer = jwt["issuer"]["Fn::If"]
    assert condition == "WithUserPool" and given_issuer == {"Ref": "JwtIssuer"}
    assert pool_issuer == {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${MemberUserPool}"}
    (audience,) = jwt["audience"]
    assert audience == {"Fn::If": ["WithUserPool", {"Ref": "MemberUserPoolClient"}, {"Ref": "JwtAudience"}]}


def _statements(node: Any) -> list[dict[str, Any]]:
    """Every IAM statement anywhere in the template: function policies, roles, queue policies."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        statements = node.get("Statement")
        if isinstance(statements, list):
            found += [s for s in statements if isinstance(s, dict)]
        for value in node.values():
            found += _statements(value)
    elif isinstance(node, list):
        for value in node:
            found += _statements(value)
    return found


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [str(node)]


def _object_prefix(resource: str, buckets: set[str], named: set[str]) -> bool:
    """An object has no ARN of its own: the objects under a prefix of one of our buckets (never the
    whole bucket; by its ARN, or by its fixed name), or the table's exports."""
    for name in named:
        arn = f"arn:${{AWS::Partition}}:s3:::{name}/"
        if resource.startswith(arn) and resource.endswith("/*") and len(resource) > len(arn) + 2:
            return True
    bucket, _, rest = resource.partition(".Arn}/")
    return (bucket[2:] in buckets and rest.endswith("/*") and len(rest) > 2) or resource == (
        "${LoyaltyTable.Arn}/export/*"
    )


def test_no_iam_statement_grants_a_wildcard_action_or_resource() -> None:
    template = load_template()
    buckets = set(_of_type(template, "AWS::S3::Bucket"))
    named = {
        template.resources[b]["Properties"]["BucketName"]["Fn::Sub"]
        for b in buckets
        if "BucketName" in template.resources[b]["Properties"]
    }
    statements = _statements(template.resources)
    assert statements
    for statement in statements:
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        if statement["Effect"] == "Deny":  # grants nothing: a bucket's TLS-only guard
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, statement
            continue
        if "Principal" in statement:
            if statement["Action"] == "sts:AssumeRole":  # a role's trust policy: who may assume it
                assert "*" not in str(statement["Principal"]), statement
                continue
            if statement["Action"] == "sts:AssumeRoleWithWebIdentity":  # the console's identity pool only
                assert statement["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}, statement
                assert "cognito-identity.amazonaws.com:aud" in statement["Condition"]["StringEquals"], statement
                continue
            # A bucket policy letting an AWS service deliver (access logs), on behalf of our resource only.
            assert list(statement["Principal"]) == ["Service"], statement
            assert "aws:SourceArn" in str(statement["Condition"]), statement
        for key in ("Action", "Resource"):
            assert key in statement, statement
        assert not any("*" in s for s in _strings(statement["Action"])), statement
        resources = [s for s in _strings(statement["Resource"]) if "*" in s]
        # ListStreams has no per-stream resource: the table's streams, as SAM's DynamoDBStreamReadPolicy.
        if resources and _strings(statement["Action"]) == ["dynamodb:ListStreams"]:
            assert resources == ["${LoyaltyTable.Arn}/stream/*"], statement
            continue
        # The console's role: any method of the server routes, all under /programs (no /me, no docs).
        if resources and _strings(statement["Action"]) == ["execute-api:Invoke"]:
            assert [r.split(":")[-1] for r in resources] == ["${LoyaltyApi}/$default/*/programs/*"], statement
            continue
        assert all(_object_prefix(r, buckets, named) for r in resources), statement


def test_every_scheduled_run_has_bounded_retries_and_a_dead_letter_queue() -> None:
    template = load_template()
    queues = _of_type(template, "AWS::SQS::Queue")
    schedules = _events(template, "ScheduleV2")
    assert {fn for fn, _, _ in schedules} >= {
        "ExpirePointsFunction",
        "ChurnSweepFunction",
        "EvaluateTierFunction",
        "IssueBenefitsFunction",
    }
    for fn, event, spec in schedules:
        retry = spec["RetryPolicy"]
        assert 0 <= retry["MaximumRetryAttempts"] <= 5, f"{fn}.{event}"
        assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400, f"{fn}.{event}"
        (queue, attribute) = spec["DeadLetterConfig"]["Arn"]["Fn::GetAtt"]
        assert queue in queues and attribute == "Arn", f"{fn}.{event}"
        # Scheduler invokes asynchronously: a run that fails inside the function needs the function's DLQ.
        dlq = template.resources[fn]["Properties"]["DeadLetterQueue"]
        assert dlq["Type"] == "SQS" and dlq["TargetArn"]["Fn::GetAtt"][0] in queues, fn


def test_every_queue_is_encrypted_and_has_an_alarm() -> None:
    template = load_template()
    queues = _of_type(template, "AWS::SQS::Queue")
    assert {"WorkQueue", "WorkDeadLetterQueue", "ScheduleDeadLetterQueue"} <= set(queues)
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/SQS"  # metric-math alarms watch functions and the table
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "QueueName"
    }
    for name, queue in queues.items():
        assert name in watched, f"no alarm on {name}"
        assert queue["Properties"].get("KmsMasterKeyId"), f"{name} is not encrypted with KMS"


def test_errors_and_throttles_of_every_function_are_alarmed_and_on_the_dashboard() -> None:
    template = load_template()
    functions = set(template.functions())
    alarms = _of_type(template, "AWS::CloudWatch::Alarm")
    for kind in ("Errors", "Throttles"):
        # A metric-math alarm watches at most 10 metrics (CloudWatch's limit): one alarm per ten functions.
        split = [a for name, a in alarms.items() if re.fullmatch(f"Function{kind}\\d*Alarm", name)]
        stats = [m for a in split for m in a["Properties"]["Metrics"] if "MetricStat" in m]
        assert all(sum("MetricStat" in m for m in a["Properties"]["Metrics"]) <= 10 for a in split), kind
        watched = [m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in stats]
        assert sorted(watched) == sorted(functions), kind
    assert {"ApiServerErrorsAlarm", "TableThrottlesAlarm", "WorkQueueAgeAlarm"} <= set(alarms)
    body = template.resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for name in functions:
        assert "${" + name + "}" in body, f"{name} is not on the dashboard"


def test_hot_routes_can_keep_provisioned_instances_and_none_by_default() -> None:
    template = load_template()
    assert template.raw["Parameters"]["ProvisionedConcurrency"]["Default"] == 0
    for name in ("EarnFunction", "RedeemFunction", "MembersFunction"):
        props = template.resources[name]["Properties"]
        assert props["AutoPublishAlias"] == "live", name  # API Gateway calls the alias that is provisioned
        config = props["ProvisionedConcurrencyConfig"]["Fn::If"]
        assert config[0] == "WithProvisionedConcurrency", name
        assert config[1] == {"ProvisionedConcurrentExecutions": {"Ref": "ProvisionedConcurrency"}}, name


def test_only_the_operators_group_gets_credentials_and_they_invoke_only_server_routes() -> None:
    resources = load_template().resources
    group = resources["OperatorsGroup"]["Properties"]
    assert group["GroupName"] == "operators" and group["RoleArn"] == {"Fn::GetAtt": ["ConsoleOperatorRole", "Arn"]}
    pool = resources["ConsoleIdentityPool"]["Properties"]
    assert pool["AllowUnauthenticatedIdentities"] is False and pool["AllowClassicFlow"] is False
    [mapping] = resources["ConsoleIdentityPoolRoles"]["Properties"]["RoleMappings"].values()
    assert (mapping["Type"], mapping["AmbiguousRoleResolution"]) == ("Token", "Deny")  # no group: no role
    assert "Roles" not in resources["ConsoleIdentityPoolRoles"]["Properties"]  # no default authenticated role
    role = resources["ConsoleOperatorRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert trust["StringEquals"] == {"cognito-identity.amazonaws.com:aud": {"Ref": "ConsoleIdentityPool"}}
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "execute-api:Invoke"
    routes = [r["Fn::Sub"].split(":")[-1] for r in statement["Resource"]]
    assert routes == ["${LoyaltyApi}/$default/*/programs/*", "${LoyaltyApi}/$default/GET/operations/scheduled"]
    # The console's files: only the distribution reads them.
    grants = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [read] = [g for g in grants if g["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"} and "aws:SourceArn" in str(read["Condition"])
