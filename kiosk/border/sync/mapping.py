"""A local (kiosk) event's fields as the border `events` row: border_row gives
column values (SQLite stand-in), border_json one JSON object encoded as its chain
hash was computed (PostgreSQL). An event the border cannot take raises
EventRejected."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.clock import as_utc
from kiosk.store.event_log import encode_value, utc_iso


class EventRejected(ValueError):
    """A local event that cannot be sent as it is (it stays in the outbox)."""


def normalise_document_number(number: str) -> str:
    return number.strip().upper().rstrip("<")


def _text_or_none(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().upper().rstrip("<")
    return cleaned[:limit] if cleaned else None


def _permitted_until(values: Mapping[str, Any]) -> datetime | None:
    """The transit stay limit when the local record carries one (a column if the
    local schema grows one, else checks["permitted_until"] as an ISO string)."""
    value: Any = values.get("permitted_until")
    checks = values.get("checks")
    if value is None and isinstance(checks, dict):
        value = checks.get("permitted_until")
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    return None


@dataclass(frozen=True)
class _Derived:
    """What the border row adds to or changes in a local event's fields."""

    uid: uuid.UUID
    document: dict[str, Any]
    document_number: str | None
    issuing_state: str | None
    nationality: str | None
    permitted_until: datetime | None


def _derived(values: Mapping[str, Any], kiosk_id: str) -> _Derived:
    """Raises EventRejected for an event the border cannot take."""
    if values["kiosk_id"] != kiosk_id:
        raise EventRejected(
            f"event belongs to kiosk {values['kiosk_id']!r}; this kiosk syncs as {kiosk_id!r}"
        )
    try:
        uid = uuid.UUID(values["event_id"])
    except (ValueError, TypeError, AttributeError) as exc:
        raise EventRejected(f"event id {values['event_id']!r} is not a UUID") from exc
    document = values["document"] if isinstance(values["document"], dict) else {}
    return _Derived(
        uid,
        document,
        _text_or_none(document.get("document_number"), 40),
        _text_or_none(document.get("issuing_state"), 3),
        _text_or_none(document.get("nationality"), 3),
        _permitted_until(values),
    )


def border_row(values: Mapping[str, Any], kiosk_id: str) -> dict[str, Any]:
    """The border `events` row for one local event's fields (without its chain
    position); raises EventRejected."""
    d = _derived(values, kiosk_id)
    row = _shared_fields(values, d)
    row.update(
        event_id=d.uid,
        started_at=as_utc(values["started_at"]),
        finished_at=as_utc(values["finished_at"]),
        permitted_until=d.permitted_until,
    )
    return row


def border_json(
    values: Mapping[str, Any], kiosk_id: str, seq: int, previous: str
) -> tuple[uuid.UUID, str]:
    """The border row of a verified event as one JSON object, encoded with the
    encoder of its canonical form (kiosk.store.event_log.encode_value): the
    border gets each field as the very text its chain hash was checked over.
    Raises EventRejected."""
    d = _derived(values, kiosk_id)
    row = _shared_fields(values, d)
    row.update(
        event_id=str(d.uid),
        started_at=utc_iso(values["started_at"]),
        finished_at=utc_iso(values["finished_at"]),
        permitted_until=d.permitted_until.isoformat() if d.permitted_until else None,
        log_seq=int(seq),
        prev_hash=previous,
    )
    return d.uid, encode_value(row)


def _shared_fields(values: Mapping[str, Any], d: _Derived) -> dict[str, Any]:
    """The border row's fields that border_row and border_json encode alike."""
    row = {name: values[name] for name in _PLAIN_FIELDS}
    row.update(
        reasons=list(values["reasons"]),
        document=d.document,
        document_number=d.document_number,
        issuing_state=d.issuing_state,
        nationality=d.nationality,
        chain_hash=values["chain_hash"],
    )
    return row


# Record fields the border row takes as they are.
_PLAIN_FIELDS = (
    "kiosk_id", "port", "lane", "direction", "outcome", "decision", "basis", "policy_pack",
    "policy_version", "checks", "stages", "transaction_ms", "error",
)  # fmt: skip
