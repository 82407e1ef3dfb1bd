"""API calls per (account or tenant, service), shared by every worker (``limits``, a moving
window in the broker's Redis): adding workers adds throughput, not throttling.

AWS: each account session's ``before-call`` event waits for a slot before every API call
(retries are botocore's own and are not counted again). HTTP providers: every request of a
client with a ``rate_key`` (each page, each retry) waits at the shared client's request gate
(:func:`collector.http.set_request_gate`), per tenant, org or server and service:
``azure:arm``, ``entra:graph``, ``intune:graph``, ``okta:api``, ``workspace:directory``,
``workspace:reports``, ``fleet:api``, ``github:api``. A limit reads ``N/second`` (or minute,
hour); ``rate_limits`` overrides it per ``provider:service`` (``aws:ec2``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from collector.accounts import Account
from collector.logs import get_logger
from collector.settings import CelerySettings

log = get_logger("annexa.worker")

MAX_WAIT = 1.0  # longest single sleep while waiting for a slot
WARN_EVERY = 60.0  # seconds between warnings that the shared storage is unreachable


class ApiRateLimiter:
    """Waits for a slot per (provider, account, service) in shared storage."""

    def __init__(
        self, settings: CelerySettings, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        from limits import parse, storage, strategies

        url = settings.rate_limit_storage or (
            settings.broker_url if settings.broker_url.startswith("redis") else "memory://"
        )
        self.storage_url = url
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(url))
        self._default = parse(settings.rate_limit) if settings.rate_limit else None
        self._by_service = {key: parse(value) for key, value in settings.rate_limits.items()}
        self._sleep = sleep
        self._warned = float("-inf")

    def try_acquire(self, provider: str, account: str, service: str) -> bool:
        """Take one call's slot if the window has one; True when taken, unlimited, or the
        shared storage is unreachable (the call then goes out unlimited, as with one worker:
        the provider's own throttling answers are still retried; a broker outage must not
        turn evidence into ERROR)."""
        item = self._by_service.get(f"{provider}:{service}", self._default)
        if item is None:
            return True
        try:
            return self._limiter.hit(item, provider, account, service)
        except Exception as exc:  # redis-py's ConnectionError, a timeout
            now = time.monotonic()
            if now - self._warned > WARN_EVERY:
                self._warned = now
                log.warning("rate limit storage unreachable; calls unlimited", cause=str(exc))
            return True

    def acquire(self, provider: str, account: str, service: str) -> None:
        """Wait until one call of ``service`` on ``account`` may go out."""
        while not self.try_acquire(provider, account, service):
            item = self._by_service.get(f"{provider}:{service}", self._default)
            assert item is not None
            try:
                stats = self._limiter.get_window_stats(item, provider, account, service)
                wait = stats.reset_time - time.time()
            except Exception:
                wait = MAX_WAIT
            self._sleep(min(MAX_WAIT, max(0.01, wait)))

    def install(self) -> None:
        """Limit the requests of every HTTP provider's client in this process."""
        from collector.http import set_request_gate

        set_request_gate(self.acquire)

    def watch(self, accounts: Sequence[Account]) -> None:
        """Limit the API calls of every AWS account's session."""
        for account in accounts:
            session = getattr(account.make_scope, "session", None)
            events = getattr(session, "events", None)
            if account.provider == "aws" and events is not None:
                events.register(
                    "before-call", self._aws_hook(account.account), unique_id="annexa-rate-limit"
                )

    def _aws_hook(self, account: str) -> Callable[..., None]:
        def before_call(model: Any = None, **_: Any) -> None:
            service = getattr(getattr(model, "service_model", None), "service_name", "unknown")
            self.acquire("aws", account, service)

        return before_call
