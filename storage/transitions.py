"""Control status transitions the daemon records, and the delivery state of their alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, update

from storage.base import StoreBase, lock_chain, transition_t
from storage.ledger import append_row
from storage.records import AlertState, Transition


class TransitionStore(StoreBase):
    """Append-only status transitions; only an alert's delivery state is ever updated."""

    def record_transition(
        self,
        control_id: str,
        from_state: str | None,
        to_state: str,
        *,
        at: datetime,
        reasons: Sequence[str] = (),
        alert: bool = False,
    ) -> Transition:
        """Store one transition; with ``alert`` its alert starts as ``pending``."""
        values: dict[str, Any] = {
            "control_id": control_id,
            "from_state": from_state,
            "to_state": to_state,
            "at": at,
            "reasons": list(reasons),
            "alert_state": "pending" if alert else "none",
            "alerted_at": None,
        }
        with self._write() as conn:
            lock_chain(conn)
            new_id = conn.execute(insert(transition_t).returning(transition_t.c.id), values)
            values["id"] = new_id.scalar_one()
            append_row(conn, "transition", values["id"])
        return _transition(values)

    def transitions(
        self,
        *,
        since: datetime | None = None,
        control: str | None = None,
        alert_state: AlertState | None = None,
    ) -> list[Transition]:
        """Transitions in the order they were recorded, optionally filtered."""
        query = select(transition_t).order_by(transition_t.c.id)
        if since is not None:
            query = query.where(transition_t.c.at >= since)
        if control is not None:
            query = query.where(transition_t.c.control_id == control)
        if alert_state is not None:
            query = query.where(transition_t.c.alert_state == alert_state)
        with self.engine.connect() as conn:
            return [_transition(row._asdict()) for row in conn.execute(query)]

    def last_states(self) -> dict[str, str]:
        """Each control's state after its last recorded transition."""
        newest = (
            select(func.max(transition_t.c.id))
            .group_by(transition_t.c.control_id)
            .scalar_subquery()
        )
        query = select(transition_t.c.control_id, transition_t.c.to_state).where(
            transition_t.c.id.in_(newest)
        )
        with self.engine.connect() as conn:
            return {row.control_id: row.to_state for row in conn.execute(query)}

    def mark_alert(self, transition_id: int, state: AlertState, *, at: datetime) -> None:
        """Record the outcome of delivering a transition's alert."""
        with self._write() as conn:
            lock_chain(conn)
            done = conn.execute(
                update(transition_t)
                .where(transition_t.c.id == transition_id)
                .values(alert_state=state, alerted_at=at)
            )
            if done.rowcount:
                append_row(conn, "transition", transition_id)


def _transition(row: dict[str, Any] | Row[Any]) -> Transition:
    data = dict(row)
    data["reasons"] = tuple(data.get("reasons") or ())
    return Transition(**data)
