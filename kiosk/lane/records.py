"""The lane's event-log records, built in one place.

Every record the lane writes (a traveller's outcome, a follow-up to one already on
record, an officer's command) carries this kiosk's identity the same way; only
what differs per kind is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kiosk.config import KioskSection
from kiosk.ports import PolicyDecision
from kiosk.store.event_log import EventRecord


def lane_record(
    kiosk: KioskSection,
    *,
    event_id: str,
    started_at: datetime,
    finished_at: datetime,
    outcome: str,
    document: dict[str, Any],
    checks: dict[str, Any],
    reasons: Sequence[str],
    stages: dict[str, str] | None = None,
    decision: str | None = None,
    basis: str | None = None,
    pack: PolicyDecision | None = None,
    transaction_ms: float | None = None,
    error: str | None = None,
) -> EventRecord:
    """One event for the local log; `pack` is the decision whose policy pack it cites."""
    return EventRecord(
        event_id=event_id,
        kiosk_id=kiosk.id,
        port=kiosk.port,
        lane=kiosk.lane,
        direction=kiosk.direction,
        started_at=started_at,
        finished_at=finished_at,
        stages=dict(stages or {}),
        outcome=outcome,
        decision=decision,
        basis=basis,
        reasons=list(reasons),
        policy_pack=pack.pack_id if pack else None,
        policy_version=pack.pack_version if pack else None,
        document=document,
        checks=checks,
        transaction_ms=transaction_ms,
        error=error,
    )
