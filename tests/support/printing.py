"""A printed document as a client receives it: the PDF through the API function as API Gateway
passes it (base64, `Accept: application/pdf`), and its text read back with pypdf."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from pypdf import PdfReader

from infra.gateway import claims_for, proxy_event
from infra.lambda_runtime import LocalContext
from tests.support.api import USERS


def printed_pdf(api: Any, path: str, user: str = "clerk") -> bytes:
    """GET the PDF as API Gateway would receive it; its bytes."""
    event = proxy_event("GET", path, {"Accept": "application/pdf"}, b"", claims_for(user, USERS))
    result = api(event, LocalContext("ApiFunction", 29))
    assert result["statusCode"] == 200, result.get("body")
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    assert headers["Content-Type"] == "application/pdf"
    assert result["isBase64Encoded"] is True
    data = base64.b64decode(result["body"])
    assert data.startswith(b"%PDF-")
    return data


def pages_text(pdf: bytes) -> list[str]:
    """Each page's text, runs of blanks made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"[ \t]+", " ", page.extract_text()) for page in reader.pages]


def pdf_text(api: Any, path: str) -> str:
    """GET the PDF and read its text back, all pages."""
    return "\n".join(pages_text(printed_pdf(api, path)))
