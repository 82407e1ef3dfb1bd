"""``/healthz`` and ``/metrics`` (Prometheus text format) on waitress, a maintained WSGI server.

Metrics live in a dedicated ``CollectorRegistry`` per daemon (never the global one), so several
daemons in one process (tests) do not collide.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from waitress.server import create_server
from waitress.wasyncore import close_all

from collector.errors import UserError
from collector.status import ControlState, ControlStatus

LATENESS_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    1.0,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
    30.0,
    60.0,
)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class _StatusCollector(Collector):
    """Controls by state and evidence age per control, computed at scrape time."""

    def __init__(self, statuses: Callable[[], list[ControlStatus]], now: Callable[[], datetime]):
        self._statuses = statuses
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        statuses = self._statuses()
        now = self._now()
        by_state = GaugeMetricFamily(
            "annexa_controls",
            "Annex A controls by status (at_risk: passing, nearing max age)",
            labels=["state"],
        )
        counts = dict.fromkeys([s.value for s in ControlState] + ["at_risk"], 0)
        for s in statuses:
            counts[s.state.value] += 1
            counts["at_risk"] += int(s.at_risk)
        for state, n in counts.items():
            by_state.add_metric([state], n)
        yield by_state
        age = GaugeMetricFamily(
            "annexa_evidence_age_seconds",
            "Age of the newest evidence per control",
            labels=["control"],
        )
        for s in statuses:
            if s.last_evidence_at is not None:
                age.add_metric([s.control.id], (now - s.last_evidence_at).total_seconds())
        yield age


class Metrics:
    """The daemon's metrics, registered on their own registry."""

    def __init__(
        self, statuses: Callable[[], list[ControlStatus]], now: Callable[[], datetime]
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.check_duration = Histogram(
            "annexa_check_duration_seconds",
            "Time to collect and judge one (check, target)",
            ["check"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.check_errors = Counter(
            "annexa_check_errors",
            "ERROR evidence recorded, by check and cause class",
            ["check", "cause"],
            registry=r,
        )
        self.job_lateness = Histogram(
            "annexa_job_lateness_seconds",
            "Job start minus its scheduled time",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.api_throttled = Counter(
            "annexa_api_throttled",
            "Throttled API responses seen (retried or not)",
            ["provider"],
            registry=r,
        )
        self.alert_deliveries = Counter(
            "annexa_alert_deliveries",
            "Webhook alert delivery attempts by outcome",
            ["outcome"],
            registry=r,
        )
        self.transitions = Counter(
            "annexa_status_transitions",
            "Control status transitions recorded",
            ["to"],
            registry=r,
        )
        self.buffered = Gauge(
            "annexa_buffered_evidence",
            "Evidence held in memory while the store is unreachable",
            registry=r,
        )
        self.store_up = Gauge(
            "annexa_store_up", "1 when the evidence store is reachable", registry=r
        )
        self.leader = Gauge(
            "annexa_leader", "1 when this daemon holds the collection lock", registry=r
        )
        r.register(_StatusCollector(statuses, now))

    def render(self) -> bytes:
        return generate_latest(self.registry)


Probe = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    """Serves ``/healthz`` (readiness) and ``/livez`` (liveness) as JSON, 200 or 503, and
    ``/metrics``, with waitress on a daemon thread. What the probes answer is decided in
    ``collector.daemon.probes``.

    Waitress reads each request whole in one event loop before a worker thread answers it, so
    idle or half-sent connections cost a socket, never a thread; at most ``CONNECTIONS`` are
    open at once (more wait in the listen backlog) and one idle for ``IDLE_TIMEOUT`` seconds is
    closed. Its own logs go through the stdlib ``waitress`` logger, in the configured format.
    Raises UserError (one line) when the address cannot be bound.
    """

    THREADS = 2
    CONNECTIONS = 500
    IDLE_TIMEOUT = 10

    def __init__(
        self, host: str, port: int, health: Probe, metrics: Metrics, live: Probe | None = None
    ) -> None:
        try:
            self._server = create_server(
                _app({"/healthz": health, "/livez": live or health}, metrics),
                host=host,
                port=port,
                threads=self.THREADS,
                connection_limit=self.CONNECTIONS,
                channel_timeout=self.IDLE_TIMEOUT,
                cleanup_interval=max(1, self.IDLE_TIMEOUT // 2),
                asyncore_use_poll=True,  # select() stops at 1,024 descriptors
                ident="annexa",
                clear_untrusted_proxy_headers=True,
            )
        except (OSError, ValueError) as exc:  # busy port, unknown or foreign address
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(f"daemon: cannot listen on {host}:{port}: {reason}") from None
        self._thread = threading.Thread(target=self._server.run, name="annexa-health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    def address(self) -> tuple[str, int]:
        """(host, port) as bound."""
        return str(self._server.effective_host), self.port  # type: ignore[union-attr]

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.task_dispatcher.shutdown(timeout=1)
        close_all(self._server._map)  # the listening socket and every open connection
        self._thread.join(timeout=5)


def _app(probes: dict[str, Probe], metrics: Metrics) -> Any:
    """The WSGI application: read-only routes, the probes and the metrics."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            code, kind, body = "405 Method Not Allowed", "text/plain", b"GET only\n"
        elif path in probes:
            ok, status = probes[path]()
            code = "200 OK" if ok else "503 Service Unavailable"
            kind, body = "application/json", json.dumps(status).encode()
        elif path == "/metrics":
            code, kind, body = "200 OK", CONTENT_TYPE_LATEST, metrics.render()
        else:
            code, kind, body = "404 Not Found", "text/plain", b"not found\n"
        start_response(code, [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [body]

    return app
