"""The key the API signs its page tokens with, for the local stack.

Deployed, Secrets Manager generates it (template.yaml's `PageTokenSecret`) and the API reads
the secret PAGE_TOKEN_SECRET names. Locally the same code reads the same setting from moto's
Secrets Manager, which keeps nothing between starts: `local_key` generates the key once into
`.local/page-token.key` (next to the data directory; readable by its owner only), and
`put_page_token_secret` writes it into the secret at every start, so a page token given out
before a restart still opens after it. Delete the file to change the key (the tokens given
out before are then refused with a 400: start again from the first page).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

KEY_FILE = "page-token.key"


def local_key(directory: Path) -> str:
    """The local key, generated into `directory`/page-token.key the first time."""
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if not key:
        raise ValueError(f"{path} is empty: delete it and a new key is generated")
    return key


def put_page_token_secret(secretsmanager: Any, name: str, key: str) -> None:
    """Create (or replace the value of) the secret the API reads the key from."""
    try:
        secretsmanager.create_secret(Name=name, SecretString=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
        secretsmanager.put_secret_value(SecretId=name, SecretString=key)
