"""Publish the console to the stack's own hosting: config.json, the files, an invalidation.

    python -m infra.deploy_console STACK_NAME     (make deploy-console STACK=background-posting)

Reads the deployed stack's Outputs, writes the deployed `config.json` (Cognito's hosted UI,
the API's URL), uploads console/ (the page, its code, the vendored libraries) to the
console bucket under `console/` with each file's content type, and invalidates
CloudFront's copy. Run it after `sam deploy`, from a clone where `make install` has run
(console/vendor/ is filled by the install step).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from infra.gateway import CONSOLE_HIDDEN, CONSOLE_TYPES
from infra.template import ROOT

CONSOLE_ROOT = ROOT / "console"
PREFIX = "console/"


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def deployed_config(outputs: dict[str, str]) -> dict[str, Any]:
    """The console's config.json on AWS: sign in with the hosted UI, call the API stage."""
    return {
        "auth": "cognito",
        "api": outputs["ApiUrl"],
        "cognito": {
            "domain": outputs["HostedUiDomain"],
            "client_id": outputs["UserPoolClientId"],
            "redirect_uri": outputs["ConsoleUrl"],
            "scopes": ["openid", "email", "profile"],
        },
    }


def console_files(root: Path = CONSOLE_ROOT) -> list[Path]:
    """What the browser loads: no node_modules, no package files, no local config.json."""
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if (
            path.is_file()
            and "node_modules" not in relative.parts
            and path.name not in CONSOLE_HIDDEN
            and path.suffix.lower() in CONSOLE_TYPES
            and relative != Path("config.json")
        ):
            files.append(path)
    if not (root / "vendor" / "preact.mjs").is_file():
        raise FileNotFoundError("console/vendor/ is empty: run `make install` first")
    return files


def upload(s3: Any, bucket: str, config: dict[str, Any], root: Path = CONSOLE_ROOT) -> list[str]:
    keys = []
    for path in console_files(root):
        key = PREFIX + path.relative_to(root).as_posix()
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=CONSOLE_TYPES[path.suffix.lower()],
            CacheControl="no-cache",
        )
        keys.append(key)
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=json.dumps(config, indent=2).encode(),
        ContentType=CONSOLE_TYPES[".json"],
        CacheControl="no-cache",
    )
    return [*keys, PREFIX + "config.json"]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    outputs = stack_outputs(boto3.client("cloudformation"), argv[0])
    keys = upload(boto3.client("s3"), outputs["ConsoleBucketName"], deployed_config(outputs))
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": [f"/{PREFIX}*"]},
            "CallerReference": f"console-{time.time_ns()}",
        },
    )
    print(f"{len(keys)} files published; the console is at {outputs['ConsoleUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
