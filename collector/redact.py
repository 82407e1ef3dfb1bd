"""Keep secrets out of evidence and logs.

Observations keep what a verdict rests on; values stored under secret-looking keys, and
strings that look like credentials anywhere, are replaced before anything is stored or logged.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
# Compared against the key with '_' and '-' removed, lower-cased.
_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|secret|secretaccesskey|token|privatekey|apikey|userdata"
    r"|environment|variables|authorization|cookie|credentials?|connectionstring)$"
)
_SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT
    r"|\b(xox[abprs]|gh[pousr])[-_][A-Za-z0-9-]{10,}"  # Slack, GitHub tokens
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"  # AWS access key ids
    r"|(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"  # AWS secret access keys
    # not an ARN's resource type (arn:aws:secretsmanager:...:secret:prod/db-AbCdEf)
    r"|(?i:(?<![:/])\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)\S+",
    re.DOTALL,
)


def is_secret_key(key: str) -> bool:
    """True for keys whose values are secrets (``DbPassword``, ``client_secret``, ``UserData``)."""
    return bool(_SECRET_KEY.search(key.replace("_", "").replace("-", "").lower()))


def redact_text(text: str) -> str:
    """Replace credential-looking substrings of ``text``."""
    return _SECRET_VALUE.sub(REDACTED, text)


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with secrets replaced; booleans and numbers are kept."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_key(str(k)) and _sensitive(v) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _sensitive(value: Any) -> bool:
    # "password_enabled: true" is a fact about a secret, not the secret.
    return not (value is None or isinstance(value, bool | int | float))
