"""AvaTax for the local stack: the stand-in on 127.0.0.1, and its secret in Secrets Manager.

The functions read AvaTax's settings from the secret that AVATAX_SECRET_NAME names, as on AWS;
locally that secret lives in moto's Secrets Manager and `start_local_avatax` writes it:

* by default the stack starts the stand-in (`infra/avatax_standin.py`) in its own process, on
  a free port (`AVATAX_STANDIN_PORT` picks one), and points the secret at it;
* `LOCAL_AVATAX_URL=http://127.0.0.1:8765` points the secret at an AvaTax already running there
  (the end-to-end tests' own stand-in, or `python -m infra.avatax_standin`), with the
  stand-in's credentials unless `AVATAX_ACCOUNT_ID` and `AVATAX_LICENSE_KEY` say otherwise;
* `LOCAL_AVATAX_URL=sandbox` with `AVATAX_ACCOUNT_ID`, `AVATAX_LICENSE_KEY` (and optionally
  `AVATAX_COMPANY_CODE`) uses Avalara's own sandbox.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from botocore.exceptions import ClientError

from infra.avatax_standin import DEFAULT_ACCOUNT_ID, DEFAULT_LICENSE_KEY, AvaTaxStandIn

log = logging.getLogger("avatax")

DEFAULT_SECRET_NAME = "background-posting/avatax"


def put_avatax_secret(
    secretsmanager: Any,
    name: str,
    environment: str,
    account_id: str = DEFAULT_ACCOUNT_ID,
    license_key: str = DEFAULT_LICENSE_KEY,
    company_code: str | None = None,
) -> None:
    """Create (or replace the value of) the secret the functions read AvaTax's settings from."""
    value = {"account_id": account_id, "license_key": license_key, "environment": environment}
    if company_code:
        value["company_code"] = company_code
    try:
        secretsmanager.create_secret(Name=name, SecretString=json.dumps(value))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps(value))


def start_local_avatax(secretsmanager: Any) -> AvaTaxStandIn | None:
    """Point the local stack's AvaTax secret at the stand-in (started here) or LOCAL_AVATAX_URL."""
    name = os.environ.get("AVATAX_SECRET_NAME") or DEFAULT_SECRET_NAME
    url = os.environ.get("LOCAL_AVATAX_URL")
    standin = None
    if not url:
        standin = AvaTaxStandIn(port=int(os.environ.get("AVATAX_STANDIN_PORT") or 0)).start()
        url = standin.url
    put_avatax_secret(
        secretsmanager,
        name,
        url,
        os.environ.get("AVATAX_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID,
        os.environ.get("AVATAX_LICENSE_KEY") or DEFAULT_LICENSE_KEY,
        os.environ.get("AVATAX_COMPANY_CODE"),
    )
    log.info("AvaTax at %s%s (secret %s)", url, " (the stand-in)" if standin else "", name)
    return standin
