"""SES (SESv2 `SendEmail`): one e-mail, text and HTML, from the configured sender."""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from background_posting.adapters import clients
from background_posting.domain.notifications import DeliveryFailed, Email

# A send that hangs must end well within the function's timeout and the claim's hold.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard"})


class Mailer:
    def __init__(self, sender: str, client: Any | None = None):
        if not sender:
            raise ValueError("the sender address (SES_FROM_ADDRESS) is not configured")
        self.sender = sender
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # created on first use, never at import
            self._client = clients.client("sesv2", CLIENT_CONFIG)
        return self._client

    def send(self, email: Email) -> str:
        """Hand the e-mail to SES; its message id. DeliveryFailed when SES does not take it."""
        try:
            answer = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [email.to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": email.text, "Charset": "UTF-8"},
                            "Html": {"Data": email.html, "Charset": "UTF-8"},
                        },
                    }
                },
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DeliveryFailed(
                f"SES did not accept the e-mail to {email.to}: {error.get('Message', exc)}",
                details={"to": email.to, "ses_code": error.get("Code", "")},
            ) from exc
        except BotoCoreError as exc:
            raise DeliveryFailed(
                f"SES could not be reached for the e-mail to {email.to}: {exc}",
                details={"to": email.to},
            ) from exc
        return str(answer["MessageId"])
