"""What a lane asks the border database during a transaction.

- `lookup`: the traveller's journey from advance passenger information, in the
  `journey` shape of the policy case format (docs/policy.md), for entry checks.
- `entry_record`: the latest admitted entry of a document, in the `entry_record`
  shape of the policy case format, for exit (overstay) checks.

Neither ever raises: when the border database cannot answer they return None
and `status` says why, so the lane refers (no journey, no entry record) and the
caller can log the outage. Nothing here is cached locally: a stale journey or an
older entry record could admit someone the current record would refer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal, Protocol

from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from kiosk.border.database import lookup_engine
from kiosk.border.models import AdvancePassengerInfo, entry_records
from kiosk.border.sync.mapping import normalise_document_number
from kiosk.border.types import UtcDateTime
from policy.states import normalise_state

log = logging.getLogger(__name__)

LookupState = Literal["found", "not_found", "unreachable", "error"]
API_SOURCE = "advance_passenger_info"


@dataclass(frozen=True)
class LookupStatus:
    """How the last lookup went; `detail` names the failure for the log."""

    state: LookupState
    what: str
    detail: str | None = None
    at: datetime | None = None


class DocumentKey(Protocol):
    """What a lookup needs of the document facts (kiosk.lane.facts.DocumentFacts)."""

    @property
    def document_number(self) -> str: ...

    @property
    def issuing_state(self) -> str: ...


def _state(code: str) -> str:
    """The MRZ form publish() stored (e.g. DEU -> D), so both sides agree."""
    try:
        return normalise_state(code)
    except ValueError:
        return code.strip().upper()


def _iso(at: datetime | None, zone: tzinfo) -> str | None:
    if at is None:
        return None
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return aware.astimezone(zone).isoformat()


class BorderApiSource:
    """Journey and entry-record lookups against the border database.

    `zone` is the time zone the returned times are written in (the port's local
    time reads best in an officer's trace); the instants are the same in any zone.
    """

    def __init__(self, border_engine: Engine, zone: tzinfo = UTC) -> None:
        # Its own pool with the lane's bounds: a look-up must not wait as long
        # as the sync may (database.LOOKUP_TIMEOUTS).
        self.engine = lookup_engine(border_engine)
        self.zone = zone
        self._status = LookupStatus("not_found", "none")
        self._lock = threading.Lock()

    @property
    def status(self) -> LookupStatus:
        with self._lock:
            return self._status

    def _set(self, status: LookupStatus) -> None:
        with self._lock:
            self._status = status
        if status.state in ("unreachable", "error"):
            log.warning("border %s lookup %s: %s", status.what, status.state, status.detail)

    def _failed(self, what: str, exc: SQLAlchemyError) -> None:
        # Connection-level failures (refused, timed out, dropped) are "unreachable";
        # anything else (missing privileges, bad schema) is a configuration "error".
        unreachable = isinstance(exc, OperationalError | InterfaceError) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated
        )
        message = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
        state: LookupState = "unreachable" if unreachable else "error"
        self._set(LookupStatus(state, what, message, datetime.now(UTC)))

    # -- advance passenger information -----------------------------------------
    def lookup(self, document_number: str, issuing_state: str, on: date) -> dict[str, Any] | None:
        """The journey object for the traveller arriving on `on` (port-local date),
        or None (no record, or the border database did not answer)."""
        number = normalise_document_number(document_number)
        state = _state(issuing_state)
        api = AdvancePassengerInfo
        query = (
            select(api)
            .where(
                api.document_number == number,
                api.issuing_state == state,
                api.flight_date == on,
            )
            .order_by(api.created_at.desc(), api.id.desc())
            .limit(1)
        )
        try:
            with self.engine.connect() as c:
                row = c.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            self._failed("journey", exc)
            return None
        if row is None:
            self._set(LookupStatus("not_found", "journey", None, datetime.now(UTC)))
            return None
        self._set(LookupStatus("found", "journey", None, datetime.now(UTC)))
        return self._journey(row)

    def _journey(self, row: Any) -> dict[str, Any]:
        onward: dict[str, Any] | None = None
        if row["departure_time"] is not None:
            onward = {
                "destination": row["destination"],
                "departure_time": _iso(row["departure_time"], self.zone),
                "departure_port": row["departure_port"],
                "confirmed": bool(row["confirmed"]),
                "flight": row["onward_flight"],
                "source": API_SOURCE,
            }
        return {"arrived_from": row["arrived_from"], "onward": onward}

    def __call__(self, facts: DocumentKey, now: datetime) -> dict[str, Any] | None:
        """kiosk.lane.machine.JourneyLookup: the journey for `facts` on `now`'s
        date in this source's zone."""
        day = now.astimezone(self.zone).date()
        return self.lookup(facts.document_number, facts.issuing_state, day)

    # -- entry records ------------------------------------------------------------
    def entry_record(self, document_number: str, issuing_state: str) -> dict[str, Any] | None:
        """The latest admitted entry of the document as the policy case's
        `entry_record` object ({"entry_time", "port", "basis", "permitted_until"}),
        or None (never entered through an e-gate, or no answer)."""
        number = normalise_document_number(document_number)
        state = _state(issuing_state)
        try:
            with self.engine.connect() as c:
                if c.dialect.name == "postgresql":
                    # Kiosk roles cannot read other kiosks' events; this SECURITY
                    # DEFINER function answers for one document only.
                    stmt = text(
                        "SELECT entered_at, port, permitted_until, basis "
                        "FROM border_entry_record(:n, :s)"
                    ).columns(entered_at=UtcDateTime(), permitted_until=UtcDateTime())
                    row = c.execute(stmt, {"n": number, "s": state}).mappings().first()
                else:
                    e = entry_records.c
                    row = (
                        c.execute(
                            select(e.entered_at, e.port, e.permitted_until, e.basis).where(
                                e.document_number == number, e.issuing_state == state
                            )
                        )
                        .mappings()
                        .first()
                    )
        except SQLAlchemyError as exc:
            self._failed("entry_record", exc)
            return None
        if row is None:
            self._set(LookupStatus("not_found", "entry_record", None, datetime.now(UTC)))
            return None
        self._set(LookupStatus("found", "entry_record", None, datetime.now(UTC)))
        return {
            "entry_time": _iso(row["entered_at"], self.zone),
            "port": row["port"],
            "basis": row["basis"],
            "permitted_until": _iso(row["permitted_until"], self.zone),
        }

    def entry_record_for(self, facts: DocumentKey) -> dict[str, Any] | None:
        return self.entry_record(facts.document_number, facts.issuing_state)
