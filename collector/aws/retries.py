"""The retry policy of annexa's boto3 clients: patient with throttling, brief with failures.

botocore's own policy treats a throttled call and a failing one alike: both are retried up
to ``max_attempts`` times. A throttle is AWS asking for patience, and the adaptive mode's
backoff (1 s base, up to 20 s apart) and client-side rate limiter are the right answer. A
persistent server error (5xx) or transport failure (refused, reset, timed out) is not: an
API that answers 500 for a region would hold its check for half a minute. Here such a call
is retried only while its total time since the first try stays within ``transient_seconds``,
and the tries and seconds it spent are kept for the recorded cause
(:func:`collector.causes.describe_error`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.retries import special, standard

#: Default time budget per call for retrying server errors and transport failures (seconds).
TRANSIENT_SECONDS = 5.0
#: Tries per call when the client config names none (botocore's standard default).
DEFAULT_TRIES = 3
#: Where a call's start time is kept in botocore's per-request context.
_STARTED = "annexa_retry_started"


class RetryPolicy:
    """A ``needs-retry`` handler: throttling gets every try, other failures a time budget.

    ``max_attempts`` is the number of tries per call (the first one included);
    ``transient_seconds`` bounds a call's retries of server errors and transport failures,
    measured from the start of its first try: a retry whose backoff would end past the
    budget is not made.
    """

    def __init__(
        self,
        service: str,
        max_attempts: int,
        transient_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_attempts = max_attempts
        self.transient_seconds = transient_seconds
        self._clock = clock
        self._adapter = standard.RetryEventAdapter()
        self._throttling = standard.ThrottlingErrorDetector(self._adapter)
        self._retryable = standard.OrRetryChecker(
            [
                standard.TransientRetryableChecker(),
                standard.ThrottledRetryableChecker(),
                standard.ThrottlingStatusCodeChecker(),
                standard.ModeledRetryableChecker(),
                special.RetryIDPCommunicationError(),
                special.RetryDDBChecksumError(),
            ]
        )
        self._backoff = standard.ExponentialBackoff(
            service_name=service, throttling_detector=self._throttling
        )

    def started(self, context: dict[str, Any], **_: Any) -> None:
        """``before-call``: note when the call's first try starts."""
        context[_STARTED] = self._clock()

    def needs_retry(self, **kwargs: Any) -> float | None:
        """The delay before the next try, or ``None`` when this answer is final."""
        context = self._adapter.create_retry_context(**kwargs)
        elapsed = self._clock() - context.request_context.get(_STARTED, self._clock())
        if not self._retryable.is_retryable(context):
            return None  # an answer (or an error no retry can change)
        delay: float | None = None
        if context.attempt_number < self.max_attempts:
            delay = self._backoff.delay_amount(context)
            throttled = self._throttling.is_throttling_error_from_context(context)
            if not throttled and elapsed + delay > self.transient_seconds:
                delay = None
        if delay is None:
            self._record(context, elapsed)
        self._adapter.adapt_retry_response_from_context(context)
        return delay

    def _record(self, context: standard.RetryContext, elapsed: float) -> None:
        """Keep the tries and seconds on what the caller sees: the error response's
        metadata, or the transport exception."""
        seconds = round(elapsed, 1)
        context.add_retry_metadata(RetrySeconds=seconds)
        if context.caught_exception is not None:
            context.caught_exception.annexa_tries = (context.attempt_number, seconds)


def install(
    client: Any,
    transient_seconds: float = TRANSIENT_SECONDS,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Replace botocore's ``needs-retry`` handler of ``client`` with :class:`RetryPolicy`.

    The tries come from the client config (``retries.total_max_attempts``); the adaptive
    mode's rate limiter stays. A client in botocore's legacy mode is left alone.
    """
    retries = client.meta.config.retries or {}
    if retries.get("mode", "legacy") not in ("standard", "adaptive"):
        return
    service = client.meta.service_model.service_id.hyphenize()
    tries = retries.get("total_max_attempts") or DEFAULT_TRIES
    policy = RetryPolicy(service, tries, transient_seconds, clock)
    events = client.meta.events
    unique_id = f"retry-config-{service}"  # botocore's standard handler
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)
    events.register(f"needs-retry.{service}", policy.needs_retry, unique_id=unique_id)
    events.register(f"before-call.{service}", policy.started)
