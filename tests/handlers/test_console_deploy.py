"""`make console-deploy` (console/deploy.py) against moto S3: the build's files under console/ with their
types and caching, and the stack's config.json instead of the local one."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from console import deploy

OUTPUTS = {
    "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/",
    "ConsoleSignInDomain": "https://loyalty-dev-1.auth.eu-west-1.amazoncognito.com",
    "ConsoleUserPoolClientId": "client",
    "ConsoleIdentityPoolId": "eu-west-1:pool",
    "MemberUserPoolId": "eu-west-1_abc",
}


def test_upload_writes_the_build_and_the_stacks_config(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<main></main>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "config.json").write_text('{"mode": "local"}')
    (tmp_path / ".ok").touch()
    settings = deploy.config(OUTPUTS, "eu-west-1")
    assert settings["api_url"] == "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert settings["user_pool_provider"] == "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="console")
        keys = deploy.upload(s3, "console", tmp_path, settings)
        assert sorted(keys) == ["console/assets/index-abc.js", "console/config.json", "console/index.html"]
        js = s3.get_object(Bucket="console", Key="console/assets/index-abc.js")
        assert (js["ContentType"], js["CacheControl"]) == ("text/javascript", deploy.IMMUTABLE)
        page = s3.get_object(Bucket="console", Key="console/index.html")
        assert (page["ContentType"], page["CacheControl"]) == ("text/html", deploy.FRESH)
        config = json.loads(s3.get_object(Bucket="console", Key="console/config.json")["Body"].read())
        assert config == settings and config["mode"] == "aws"


def test_a_stack_without_console_sign_in_is_refused() -> None:
    with pytest.raises(SystemExit, match="CreateUserPool=true"):
        deploy.config({"ApiUrl": "https://x/"}, "eu-west-1")
