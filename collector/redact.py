"""Keep secrets out of evidence and logs, with detect-secrets' detectors.

Every string of observations, findings, error causes and log events is scanned with
detect-secrets' plugins (AWS keys, basic-auth URLs such as a database URL with a password,
Slack tokens and webhooks, Stripe, GitHub, GitLab, OpenAI, SendGrid, Twilio, JWTs, private
keys, ``"password": "..."`` assignments inside policy documents and other free text, ...),
used directly (no global settings, so threads may scan at once). The high-entropy and
public-IP plugins are left out: resource ids, hashes and addresses are evidence. A flagged
string keeps everything but the secret: the token holding it (a private key block whole) is
replaced.

detect-secrets scans source files, so two shapes cloud resource data carries are added here:
unquoted ``password=...`` assignments and bare AWS secret access keys; and values are dropped
whole when their key names a secret (``DbPassword``, ``client_secret``, ``UserData``, an
environment block), a list that extends the library's keyword denylist with the names cloud
APIs use (token, credentials, connection strings, webhooks, cookies, user data).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

REDACTED = "[REDACTED]"
_LEFT_OUT = {"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"}
# compared against the key with '_' and '-' removed, lower-cased
_SECRET_KEY = re.compile(
    r"(password|passwd|passphrase|pwd|secret|secretaccesskey|secretstring|token|privatekey"
    r"|apikey|accesskey|authkey|userdata|environment|variables|authorization|cookie"
    r"|credentials?|connectionstring|webhook(url)?|clientsecret|sas)$"
)
_EXTRA = re.compile(
    # not an ARN's resource type (arn:aws:secretsmanager:...:secret:prod/db-AbCdEf)
    r"(?i:(?<![:/])\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*)[^\s\"',;]+"
    r"|(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])"
    r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"  # AWS secret access keys
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z ]*PRIVATE KEY( BLOCK)?-----|$)",
    re.DOTALL,
)
_TOKEN_END = " \t\r\n\"'<>,;()[]{}`"


@cache
def _plugins() -> tuple[Any, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    classes = get_mapping_from_secret_type_to_class().values()
    return tuple(cls() for cls in classes if cls.__name__ not in _LEFT_OUT)


def is_secret_key(key: str) -> bool:
    """True for keys whose values are secrets (``DbPassword``, ``client_secret``, ``UserData``)."""
    return bool(_SECRET_KEY.search(key.replace("_", "").replace("-", "").lower()))


@lru_cache(maxsize=65_536)
def redact_text(text: str) -> str:
    """``text`` with every secret detect-secrets (or the two additions above) finds replaced."""
    if len(text) < 8:
        return text
    text = _PRIVATE_KEY.sub(REDACTED, text)
    found: set[str] = set()
    for plugin in _plugins():
        for secret in plugin.analyze_line(filename="evidence", line=text, line_number=0):
            if secret.secret_value:
                found.add(secret.secret_value)
    for value in sorted(found, key=len, reverse=True):
        text = _replace_tokens(text, value)
    return _EXTRA.sub(lambda m: _keep_keyword(m.group(0)), text)


def _replace_tokens(text: str, secret: str) -> str:
    """Replace the whole token (up to whitespace, quotes or separators) around ``secret``."""
    start = text.find(secret)
    while start >= 0:
        left, right = start, start + len(secret)
        while left > 0 and text[left - 1] not in _TOKEN_END:
            left -= 1
        while right < len(text) and text[right] not in _TOKEN_END:
            right += 1
        text = text[:left] + REDACTED + text[right:]
        start = text.find(secret, left + len(REDACTED))
    return text


def _keep_keyword(match: str) -> str:
    keyword = re.match(r"(?i)(password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*", match)
    return (keyword.group(0) if keyword else "") + REDACTED


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
