"""`make console-deploy STACK=<name>`: the built console (console/dist) into the stack's console bucket
under console/, its config.json from the stack's outputs (so the same build serves any stack), and a
CloudFront invalidation of the two files whose names do not change with their content."""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from pathlib import Path
from typing import Any

import boto3

DIST = Path(__file__).resolve().parent / "dist"
PREFIX = "console/"
# Vite names what is under assets/ by content hash: cached for a year. The rest is read on every load.
IMMUTABLE, FRESH = "public, max-age=31536000, immutable", "no-cache"
UNCHANGING_NAMES = ("index.html", "config.json")


def outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def config(out: dict[str, str], region: str) -> dict[str, str]:
    """What console/src/aws.ts reads. Without the stack's user pool (CreateUserPool false) there is no
    console sign-in, so there is nothing to deploy."""
    missing = [k for k in ("ConsoleUserPoolClientId", "ConsoleIdentityPoolId", "MemberUserPoolId") if k not in out]
    if missing:
        raise SystemExit(
            f"the stack has no console sign-in (outputs missing: {', '.join(missing)}); deploy with CreateUserPool=true"
        )
    return {
        "mode": "aws",
        "region": region,
        "api_url": out["ApiUrl"].rstrip("/"),
        "sign_in_domain": out["ConsoleSignInDomain"],
        "client_id": out["ConsoleUserPoolClientId"],
        "identity_pool_id": out["ConsoleIdentityPoolId"],
        "user_pool_provider": f"cognito-idp.{region}.amazonaws.com/{out['MemberUserPoolId']}",
    }


def upload(s3: Any, bucket: str, dist: Path, settings: dict[str, str]) -> list[str]:
    """Every built file but the local config.json, then the stack's config.json; the keys written."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no build: run `make console/dist/.ok`")
    written = []
    files = sorted(p for p in dist.rglob("*") if p.is_file() and p.name != ".ok" and p != dist / "config.json")
    for path in files:
        rel = path.relative_to(dist).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if rel.startswith("assets/") else FRESH
        s3.put_object(Bucket=bucket, Key=PREFIX + rel, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        written.append(PREFIX + rel)
    body = json.dumps(settings, indent=2).encode()
    s3.put_object(
        Bucket=bucket, Key=PREFIX + "config.json", Body=body, ContentType="application/json", CacheControl=FRESH
    )
    return [*written, PREFIX + "config.json"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m console.deploy", description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    session = boto3.session.Session(region_name=args.region)
    region = session.region_name or "us-east-1"
    out = outputs(session.client("cloudformation"), args.stack)
    keys = upload(session.client("s3"), out["ConsoleBucketName"], DIST, config(out, region))
    session.client("cloudfront").create_invalidation(
        DistributionId=out["ConsoleDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": len(UNCHANGING_NAMES), "Items": [f"/{PREFIX}{n}" for n in UNCHANGING_NAMES]},
            "CallerReference": f"console-deploy-{time.time_ns()}",
        },
    )
    print(f"{len(keys)} files in s3://{out['ConsoleBucketName']}/{PREFIX}; open {out['ConsoleUrl']}")


if __name__ == "__main__":
    main()
