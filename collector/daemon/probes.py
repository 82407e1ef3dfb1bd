"""What ``/livez`` and ``/healthz`` answer, as pure functions of the daemon's state (the HTTP
server only serves them).

- Liveness (``/livez``): the process serves and, when it leads, its scheduler runs. Only a
  restart can fix a failed liveness, so the container HEALTHCHECK uses this one.
- Readiness (``/healthz``): whether the daemon is producing trustworthy evidence now.
  ``degraded`` (503) when the store or the broker (``executor: celery``) is unreachable or
  every job of a provider is erroring (missing credentials, a revoked role), with each cause;
  restarting fixes neither, so it is for alerting and load balancers, not for the HEALTHCHECK.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["DaemonState", "liveness", "readiness"]


@dataclass(frozen=True)
class DaemonState:
    """A snapshot of what the probes judge."""

    role: str  # starting | standby | leader | stopped
    scheduler_alive: bool
    store_ok: bool
    last_success: datetime | None
    buffered: int
    jobs: int
    run_id: str | None
    # provider -> (jobs whose latest result is an ERROR, jobs planned)
    provider_jobs: Mapping[str, tuple[int, int]]
    # executor: celery: why the broker refuses publications (None: reachable, or local)
    broker_cause: str | None = None
    unpublished: int = 0  # due jobs waiting for the broker


def liveness(state: DaemonState) -> tuple[bool, dict[str, Any]]:
    """(alive, body): dead only when a leading daemon's scheduler has stopped."""
    alive = not (state.role == "leader" and not state.scheduler_alive)
    return alive, {"status": "alive" if alive else "dead", "role": state.role}


def readiness(state: DaemonState) -> tuple[bool, dict[str, Any]]:
    """(ready, body) for ``/healthz``: ``ok`` or ``standby`` (200); ``degraded`` with its
    causes or ``unhealthy`` (a leader whose scheduler stopped) (503)."""
    causes = []
    if not state.store_ok:
        causes.append("evidence store unreachable")
    if state.broker_cause is not None:
        causes.append(
            f"broker unreachable ({state.broker_cause}); {state.unpublished} due jobs wait"
        )
    for provider, (erroring, planned) in sorted(state.provider_jobs.items()):
        if planned and erroring == planned:
            causes.append(f"every {provider} job is erroring ({erroring} of {planned})")
    body: dict[str, Any] = {
        "role": state.role,
        "scheduler_alive": state.scheduler_alive,
        "store_reachable": state.store_ok,
        "last_successful_job_at": state.last_success.isoformat() if state.last_success else None,
        "buffered_evidence": state.buffered,
        "jobs": state.jobs,
        "run_id": state.run_id,
        "causes": causes,
    }
    if state.broker_cause is not None or state.unpublished:
        body["unpublished_jobs"] = state.unpublished
    if state.role == "leader" and not state.scheduler_alive:
        body["status"] = "unhealthy"
    elif causes:
        body["status"] = "degraded"
    elif state.role == "standby":
        body["status"] = "standby"
    else:
        body["status"] = "ok" if state.role == "leader" else "unhealthy"
    return body["status"] in ("ok", "standby"), body
