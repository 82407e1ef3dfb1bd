"""Alerts on control status transitions: a log event always, plus configured webhooks.

Delivery runs on its own worker thread from a queue, so a slow or failing webhook never holds
up collection. Each transition is delivered once: its state (pending, delivered, failed) is
kept in the store, and pending alerts left by a stopped daemon are sent by the next one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from collector.logs import get_logger
from collector.settings import Webhook
from storage import Transition

log = get_logger("annexa.alerts")

BAD_STATES = frozenset({"failing", "error", "stale"})
GOOD_STATES = frozenset({"passing", "attested"})
SETTLED_STATES = GOOD_STATES | {"accepted"}  # a failure accepted by an exception settles it


def alertable(from_state: str | None, to_state: str) -> bool:
    """Whether a transition alerts: into FAILING, ERROR, STALE or AT_RISK, or back to PASSING
    or into ACCEPTED (from one of those)."""
    state, _, risk = to_state.partition("+")
    if state in BAD_STATES or risk:
        return True
    if state in SETTLED_STATES and from_state is not None:
        before, _, was_at_risk = from_state.partition("+")
        return before in BAD_STATES or bool(was_at_risk)
    return False


def mask_webhook(url: str) -> str:
    """``https://hooks.slack.com/***``: scheme and host only; paths and queries hold secrets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(
        (parts.scheme, host, "/***" if parts.path.strip("/") or parts.query else "", "", "")
    )


def json_payload(t: Transition, title: str) -> dict[str, Any]:
    """The generic JSON alert."""
    return {
        "control": t.control_id,
        "title": title,
        "from": t.from_state,
        "to": t.to_state,
        "at": t.at.isoformat().replace("+00:00", "Z"),
        "reasons": list(t.reasons),
        "transition_id": t.id,
    }


_EMOJI = {"failing": ":red_circle:", "error": ":warning:", "stale": ":hourglass:"}


def slack_payload(t: Transition, title: str) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (notifications) plus ``blocks``."""
    state = t.to_state.replace("+at_risk", " (at risk)")
    before = (t.from_state or "unknown").replace("+at_risk", " (at risk)")
    icon = _EMOJI.get(t.to_state.partition("+")[0], ":large_yellow_circle:")
    if t.to_state in GOOD_STATES:
        icon = ":large_green_circle:"
    elif t.to_state == "accepted":
        icon = ":large_blue_circle:"
    text = f"{t.control_id} {title}: {before} -> {state}"
    reasons = "\n".join(f"• {r}" for r in t.reasons[:10]) or "(no reasons recorded)"
    return {
        "text": text,
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{icon} *{t.control_id} {title}*\n{before} → *{state}*",
                },
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": reasons[:2900]}},
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"annexa · {json_payload(t, title)['at']}"}
                ],
            },
        ],
    }


class AlertDispatcher:
    """Delivers transitions to webhooks from a queue on one worker thread.

    ``mark(transition, outcome)`` records the outcome (``delivered`` or ``failed``);
    ``on_outcome(outcome)`` counts each webhook delivery (``delivered``, ``retried``, ``failed``).
    """

    def __init__(
        self,
        webhooks: list[Webhook],
        *,
        titles: Callable[[str], str],
        mark: Callable[[Transition, str], None],
        on_outcome: Callable[[str], None] = lambda _: None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.webhooks = list(webhooks)
        self._titles = titles
        self._mark = mark
        self._on_outcome = on_outcome
        self._queue: queue.Queue[Transition | None] = queue.Queue()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._seen: set[int] = set()
        self._client = httpx.Client(headers={"User-Agent": "annexa"})
        self._thread = threading.Thread(target=self._work, name="annexa-alerts", daemon=True)
        self._thread.start()

    def submit(self, transition: Transition) -> None:
        """Queue one transition; a transition already queued (by id) is ignored."""
        if transition.id in self._seen:
            return
        self._seen.add(transition.id)
        self._queue.put(transition)

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop (the rest stay
        pending in the store for the next daemon)."""
        self._queue.put(None)
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(1.0)
        self._client.close()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return
            try:
                self._deliver(item)
            except Exception:  # never let one alert end the worker
                log.exception("alert delivery crashed", control=item.control_id)

    def _deliver(self, t: Transition) -> None:
        outcome = "delivered"
        title = self._titles(t.control_id)
        for hook in self.webhooks:
            payload = slack_payload(t, title) if hook.format == "slack" else json_payload(t, title)
            if not self._post(hook, payload, t):
                outcome = "failed"
        if self._stop.is_set() and outcome == "failed":
            return  # shutting down: leave it pending for the next daemon
        self._mark(t, outcome)

    def _post(self, hook: Webhook, payload: dict[str, Any], t: Transition) -> bool:
        where = mask_webhook(hook.url)
        delay = hook.backoff.total_seconds()
        for attempt in range(1, hook.retries + 2):
            started = time.monotonic()
            try:
                response = self._client.post(
                    hook.url, json=payload, timeout=hook.timeout.total_seconds()
                )
                problem = None if response.is_success else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}"
            if problem is None:
                self._on_outcome("delivered")
                log.info("alert delivered", webhook=where, control=t.control_id, attempt=attempt)
                return True
            last = attempt > hook.retries
            self._on_outcome("failed" if last else "retried")
            log.warning(
                "alert delivery failed",
                webhook=where,
                control=t.control_id,
                attempt=attempt,
                problem=problem,
                seconds=round(time.monotonic() - started, 3),
                giving_up=last,
            )
            if last or self._stop.is_set():
                return False
            self._sleep(delay)
            delay *= 2
        return False


def log_transition(t: Transition, title: str, *, alert: bool, at: datetime) -> None:
    """The structured log event every transition gets (a warning when it alerts)."""
    emit = log.warning if alert and t.to_state.partition("+")[0] in BAD_STATES else log.info
    if t.from_state is None and not alert:
        emit = log.debug  # the first state seen of a quiet control
    emit(
        "control status changed",
        control=t.control_id,
        title=title,
        from_state=t.from_state,
        to_state=t.to_state,
        at=at.isoformat(),
        reasons=list(t.reasons[:5]),
        alert=alert,
    )
