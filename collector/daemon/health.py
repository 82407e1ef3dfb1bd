"""``/healthz``, ``/livez`` and ``/metrics`` (Prometheus text format), and the web console when
the daemon serves it, on annexa's one HTTP server (``collector.web.server.HttpServer``).

Metrics live in a dedicated ``CollectorRegistry`` per daemon (never the global one), so several
daemons in one process (tests) do not collide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

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
        # executor: celery (the leader's view of its workers, read from the store)
        self.tasks_published = Counter(
            "annexa_tasks_published",
            "Celery tasks (batches of co-due jobs of one account) published",
            ["provider"],
            registry=r,
        )
        self.worker_jobs = Counter(
            "annexa_worker_jobs",
            "Jobs workers stored, by provider and evidence status",
            ["provider", "status"],
            registry=r,
        )
        self.worker_job_duration = Histogram(
            "annexa_worker_job_seconds",
            "From a job's first publication to its record in the store",
            ["provider"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.jobs_waiting = Gauge(
            "annexa_jobs_waiting",
            "Jobs due but not yet published (broker unreachable), and published not yet stored",
            ["stage"],
            registry=r,
        )
        self.broker_up = Gauge(
            "annexa_broker_up", "1 when the last publication reached the broker", registry=r
        )
        r.register(_StatusCollector(statuses, now))

    def render(self) -> bytes:
        return generate_latest(self.registry)


Probe = Callable[[], tuple[bool, dict[str, Any]]]


class HealthServer:
    """Serves ``/healthz`` (readiness) and ``/livez`` (liveness) as JSON, 200 or 503, and
    ``/metrics``; with ``console`` (``daemon.web``), every other path is the web console, the
    same application as ``annexa serve``. One HTTP server for both: ``HttpServer`` (uvicorn) on
    a background thread. What the probes answer is decided in ``collector.daemon.probes``; they
    and the metrics are in-memory reads, answered on the event loop without a worker thread.
    Raises UserError (one line) when the address cannot be bound.
    """

    def __init__(
        self,
        host: str,
        port: int,
        health: Probe,
        metrics: Metrics,
        live: Probe | None = None,
        console: ASGIApp | None = None,
    ) -> None:
        from collector.web.server import HttpServer

        app = daemon_app({"/healthz": health, "/livez": live or health}, metrics, console)
        self._server = HttpServer(app, host, port, what="daemon")

    @property
    def port(self) -> int:
        return self._server.port

    def address(self) -> tuple[str, int]:
        """(host, port) as bound."""
        return self._server.address()

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.close()


def daemon_app(probes: dict[str, Probe], metrics: Metrics, console: ASGIApp | None) -> ASGIApp:
    """The daemon's ASGI application: the probes and the metrics (GET/HEAD, no sign-in: they
    carry no evidence), then the console when given (it authenticates), else 404."""

    def probe(path: str) -> Callable[[Request], Response]:
        async def answer(_: Request) -> Response:
            ok, status = probes[path]()
            return Response(
                json.dumps(status), status_code=200 if ok else 503, media_type="application/json"
            )

        return answer

    async def scrape(_: Request) -> Response:
        return Response(metrics.render(), headers={"content-type": CONTENT_TYPE_LATEST})

    routes: list[BaseRoute] = [
        Route(path, probe(path), methods=["GET", "HEAD"]) for path in sorted(probes)
    ]
    routes.append(Route("/metrics", scrape, methods=["GET", "HEAD"]))
    if console is not None:
        routes.append(Mount("/", app=console))
    return Starlette(routes=routes)
