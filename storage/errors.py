"""Errors raised by the storage layer."""

from __future__ import annotations

import re

_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@\s]*:)[^@\s]*@")


class StoreError(Exception):
    """The store cannot be used: unreachable database, bad URL, schema newer than the code.

    The message is one line and never contains a password.
    """


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***@", url)


def one_line(exc: BaseException, *secrets: str) -> str:
    """First line of an exception message, with ``secrets`` removed."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    line = text[0].strip() if text else type(exc).__name__
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line
