"""``annexa daemon``: continuous collection, status transitions, alerts, health and metrics."""

from collector.daemon.scheduler import Daemon

__all__ = ["Daemon"]
