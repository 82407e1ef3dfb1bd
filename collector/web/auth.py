"""Who is asking, and what they may do: API tokens (stored hashed), OpenID Connect sign-in,
roles (viewer, editor, auditor) and the loopback rule.

Nothing is served without authentication beyond loopback: anonymous requests get
``web.anonymous_role`` only while the server is bound to a loopback address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from collector.errors import UserError

if TYPE_CHECKING:
    from collector.settings import WebSettings

__all__ = [
    "Principal",
    "Role",
    "check_bind",
    "hash_token",
    "is_loopback",
    "new_token",
    "principal_for_token",
    "principal_for_user",
]

Role = str  # "viewer" | "editor" | "auditor"
_READERS = frozenset({"viewer", "editor", "auditor"})


@dataclass(frozen=True)
class Principal:
    """A signed-in person or an API token, with its role and (auditors) its window."""

    name: str
    role: Role
    via: str  # "oidc", "token" or "loopback"
    period: tuple[datetime, datetime] | None = None  # auditors: what they may see
    expires: datetime | None = None

    @property
    def can_read(self) -> bool:
        """Whether the principal may read pages."""
        return self.role in _READERS

    @property
    def can_write(self) -> bool:
        """Editors add manual evidence and add or revoke exceptions; nobody else writes."""
        return self.role == "editor"

    def clamp(self, at: datetime) -> datetime:
        """An instant the principal may look at: auditors never past their period's end."""
        if self.period is None:
            return at
        return min(max(at, self.period[0]), self.period[1])


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in the config instead of the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh API token and its hash: (token to hand out once, hash for the config)."""
    token = "annexa_" + secrets.token_urlsafe(32)
    return token, hash_token(token)


def _window(
    start: object, end: object, expires: object
) -> tuple[tuple[datetime, datetime] | None, datetime | None]:
    period = None
    if start is not None and end is not None:
        period = (_day_start(start), _day_start(end) + timedelta(days=1))
    return period, None if expires is None else _day_start(expires) + timedelta(days=1)


def _day_start(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(), tzinfo=UTC)  # type: ignore[arg-type]


def principal_for_token(web: WebSettings, presented: str, now: datetime) -> Principal | None:
    """The principal of a presented bearer token, None when unknown or expired."""
    digest = hash_token(presented)
    for token in web.tokens:
        if hmac.compare_digest(token.sha256, digest):
            period, expires = _window(token.period_from, token.period_to, token.expires)
            if expires is not None and now >= expires:
                return None
            return Principal(token.name, token.role, "token", period, expires)
    return None


def principal_for_user(web: WebSettings, email: str, now: datetime) -> Principal | None:
    """The principal of an OIDC-signed-in user (by e-mail), None when not authorised."""
    wanted = email.strip().lower()
    for user in web.users:
        if user.email.lower() == wanted:
            period, expires = _window(user.period_from, user.period_to, user.expires)
            if expires is not None and now >= expires:
                return None
            return Principal(email, user.role, "oidc", period, expires)
    if web.default_role is not None:
        return Principal(email, web.default_role, "oidc")
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(web: WebSettings, host: str) -> None:
    """Refuse to serve beyond loopback without any way to authenticate (UserError)."""
    if not is_loopback(host) and web.oidc is None and not web.tokens:
        raise UserError(
            f"web: refusing to serve on {host} without authentication; configure web.oidc or "
            "web.tokens (or bind to 127.0.0.1)"
        )
