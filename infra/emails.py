"""The e-mails SES (moto, in this process) has sent: what `GET /_local/emails` answers.

moto keeps every accepted message in its SES backend (`ses_backends[account][region]
.sent_messages`, shared by SES v1 and SESv2): a `Message` for Simple content (v1
`send_email`, SESv2 `send_email` with `Content.Simple`), a `RawMessage` with the MIME text
for raw content (v1 `send_raw_email`, SESv2 `Content.Raw`), a `TemplateMessage` for v1
`send_templated_email`. A `Message` holds one body only: the Html part when the sender gave
both. `keep_text_and_html()` makes moto's send_email remember both parts by message id, so
that the text part a user would read is the one the code sent.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from moto.core.responses import ActionResult
from moto.ses.models import Message, RawMessage, SESBackend, TemplateMessage, ses_backends
from moto.ses.responses import EmailResponse
from moto.sesv2.responses import SESV2Response

from infra.template import ACCOUNT_ID, REGION

Email = dict[str, Any]  # {"to": [...], "subject": "...", "text": "...", "html": "..."}

_parts_by_message_id: dict[str, tuple[str, str]] = {}  # message id -> (text, html)
_installed = threading.Lock()


def _remember(message_id: str, text: str | None, html: str | None) -> None:
    _parts_by_message_id[message_id] = (text or "", html or "")


def _sesv2_send_email(original: Callable[[SESV2Response], str]) -> Callable[[SESV2Response], str]:
    def send_email(self: SESV2Response) -> str:
        answer = original(self)
        simple = (json.loads(self.body).get("Content") or {}).get("Simple")
        if simple:
            body = simple.get("Body", {})
            _remember(
                json.loads(answer)["MessageId"],
                body.get("Text", {}).get("Data"),
                body.get("Html", {}).get("Data"),
            )
        return answer

    send_email.keeps_text_and_html = True  # type: ignore[attr-defined]
    return send_email


def _ses_send_email(
    original: Callable[[EmailResponse], ActionResult],
) -> Callable[[EmailResponse], ActionResult]:
    def send_email(self: EmailResponse) -> ActionResult:
        answer = original(self)
        _remember(
            str(answer.result["MessageId"]),  # type: ignore[index]
            self._get_param("Message.Body.Text.Data"),
            self._get_param("Message.Body.Html.Data"),
        )
        return answer

    return send_email


def keep_text_and_html() -> None:
    """From now on, remember both parts of each Simple message moto's SES accepts (idempotent)."""
    with _installed:
        if getattr(SESV2Response.send_email, "keeps_text_and_html", False):
            return
        EmailResponse.send_email = _ses_send_email(EmailResponse.send_email)  # type: ignore[method-assign,assignment]
        SESV2Response.send_email = _sesv2_send_email(SESV2Response.send_email)  # type: ignore[method-assign,assignment]


def verify_sender(sesv2: Any, sender: str) -> str:
    """Verify the address of `sender` ("Name <address>" or an address) for sending.

    moto refuses mail from unverified identities; SES v1 and SESv2 share moto's identities,
    so this one SESv2 call lets both send. Answers the bare address.
    """
    _, address = parseaddr(sender)
    sesv2.create_email_identity(EmailIdentity=address)
    return address


def sent_emails(account_id: str = ACCOUNT_ID, region: str = REGION) -> list[Email]:
    """Every e-mail moto's SES sent in this process, oldest first."""
    backend: SESBackend = ses_backends[account_id][region]
    emails = []
    for message in list(backend.sent_messages):
        if isinstance(message, Message):
            emails.append(_simple(message))
        elif isinstance(message, RawMessage):
            emails.append(_from_mime(message.raw_data, fallback_to=message.destinations))
        elif isinstance(message, TemplateMessage):
            emails.append(_templated(backend, message))
    return emails


_TAG = re.compile(r"<[a-zA-Z!/][^>]*>")


def _simple(message: Message) -> Email:
    if message.id in _parts_by_message_id:
        text, html = _parts_by_message_id[message.id]
    elif _TAG.search(message.body or ""):  # moto kept the Html part; the Text part is lost
        text, html = "", message.body
    else:
        text, html = message.body or "", ""
    return {
        "to": list(message.destinations.get("ToAddresses", [])),
        "subject": message.subject,
        "text": text,
        "html": html,
    }


def _from_mime(raw: str, fallback_to: list[str]) -> Email:
    # moto decoded the MIME bytes as UTF-8; 8bit parts need them back as bytes
    parsed = email.message_from_bytes(raw.encode("utf-8"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    to = [address for _, address in getaddresses(parsed.get_all("To", [])) if address]
    return {
        "to": to or [address for _, address in getaddresses(fallback_to) if address],
        "subject": str(parsed.get("Subject", "")),
        "text": _part(parsed, "plain"),
        "html": _part(parsed, "html"),
    }


def _part(message: EmailMessage, subtype: str) -> str:
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == f"text/{subtype}" and isinstance(part, EmailMessage):
            return str(part.get_content())
    return ""


def _templated(backend: SESBackend, message: TemplateMessage) -> Email:
    try:
        raw = backend.render_template({"name": message.template, "data": message.template_data})
    except Exception:  # the template was changed or deleted since: show what is known
        raw = f"Subject: (template {message.template})\n\n{message.template_data}"
    rendered = _from_mime(raw, fallback_to=[])
    return rendered | {"to": list(message.destinations.get("ToAddresses", []))}
