"""Facts for the policy: the document from DG1, the checks, the onward journey."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from devices.errors import ChipError
from devices.protocols import ChipReadResult
from kiosk.config import Config
from kiosk.ports import FaceVerification
from kiosk.trust.anticlone import AntiCloning, assess
from policy.case import Case, Checks, Document, EntryRecord, Journey, Onward
from policy.codes import BASES
from policy.errors import CaseError
from policy.states import normalise_state

# Chinese ports keep Beijing time; the policy's "now" and day counting use it.
PORT_TIMEZONE = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class DocumentFacts:
    document_code: str
    issuing_state: str
    nationality: str
    document_number: str
    surname: str
    given_names: str
    birth_date: date
    sex: str
    expiry_date: date

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["birth_date"] = self.birth_date.isoformat()
        out["expiry_date"] = self.expiry_date.isoformat()
        return out


def facts_from_dg1(files: Mapping[str, bytes]) -> DocumentFacts:
    """Parse DG1; raises ChipError when it is missing, LdsError when it is malformed."""
    from devices.icao9303.lds.dg1 import DataGroup1

    raw = files.get("DG1")
    if raw is None:
        raise ChipError("the chip has no DG1")
    mrz = DataGroup1.parse(raw).mrz
    if mrz.birth_date is None or mrz.expiry_date is None:
        # ICAO 9303-3 allows an unknown birth date ("<<<<<<"); the kiosk cannot
        # apply age or validity rules without it, so an officer must decide.
        raise ChipError("DG1 has no usable birth or expiry date")
    return DocumentFacts(
        document_code=mrz.document_code,
        issuing_state=mrz.issuing_state,
        nationality=mrz.nationality,
        document_number=mrz.document_number,
        surname=mrz.surname,
        given_names=mrz.given_names,
        birth_date=mrz.birth_date,
        sex=mrz.sex,
        expiry_date=mrz.expiry_date,
    )


def anti_cloning(chip: ChipReadResult) -> AntiCloning:
    """Anti-cloning (ICAO 9303-11 6.1/6.2, kiosk/trust/anticlone.py): any chip or
    active authentication that ran must have passed, and a chip whose EF.SOD lists
    DG14 or DG15 must pass one of them. `genuine` is None only when the chip
    announces neither: not a failure, but the policy sees that no anti-cloning
    check was possible."""
    return assess(chip.files, chip.chip_authentication, chip.active_authentication)


def chip_genuine(chip: ChipReadResult) -> bool | None:
    return anti_cloning(chip).genuine


def _liveness(face: FaceVerification | None) -> bool | None:
    if face is None or face.liveness in ("not_checked", "inconclusive"):
        return None  # not established: the policy refers on a missing result
    return face.liveness == "live"


def build_case(
    config: Config,
    now: datetime,
    facts: DocumentFacts,
    *,
    document_authentic: bool,
    chip_genuine: bool | None,
    watchlist_hit: bool,
    face: FaceVerification | None,
    journey: Mapping[str, Any] | None,
    reference_age_h: float | None = None,
    entry_record: Mapping[str, Any] | None = None,
) -> Case:
    """The policy case (docs/policy.md) for one traveller, built in-process from the
    lane's typed results; raises CaseError when a fact cannot be put in a case.

    A check is true, false, or None when it was not performed. The journey and the
    entry record still arrive in the case format (the journey resolver, the border
    database) and are read into their typed form here.
    """
    face_match = None if face is None or face.distance is None else bool(face.match)
    return Case(
        now=now.astimezone(PORT_TIMEZONE),
        port=config.kiosk.port,
        direction=config.kiosk.direction,
        document=_case_document(facts),
        checks=Checks(
            chip_read=True,
            document_authentic=document_authentic,
            chip_genuine=chip_genuine,
            face_match=face_match,
            liveness=_liveness(face),
            watchlist_hit=watchlist_hit,
        ),
        journey=_journey(journey),
        visa=None,
        # Always given: a kiosk that has never synced (None) is infinitely stale;
        # the lane must not skip the freshness rule.
        reference_age_hours=math.inf if reference_age_h is None else round(reference_age_h, 3),
        entry_record=(
            _entry_record(entry_record) if config.kiosk.direction == "exit" and entry_record
            else None
        ),
        case_id=None,
    )


def _state(code: str, field: str) -> str:
    try:
        return normalise_state(code)
    except ValueError as exc:
        raise CaseError(field, str(exc)) from exc


def _case_document(facts: DocumentFacts) -> Document:
    return Document(
        document_code=facts.document_code.strip().rstrip("<"),
        issuing_state=_state(facts.issuing_state, "document.issuing_state"),
        nationality=_state(facts.nationality, "document.nationality"),
        document_number=facts.document_number.rstrip("<"),
        birth_date=facts.birth_date,
        sex=facts.sex or "<",
        expiry_date=facts.expiry_date,
    )


def _aware(value: Any, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise CaseError(field, f"{value!r} is not an ISO 8601 date-time") from exc
    if parsed.utcoffset() is None:
        raise CaseError(field, f"{value!r} has no UTC offset")
    return parsed


def _journey(journey: Mapping[str, Any] | None) -> Journey:
    if not journey:
        return Journey(arrived_from=None, onward=None)
    came = journey.get("arrived_from")
    onward = journey.get("onward")
    return Journey(
        arrived_from=None if came is None else _state(came, "journey.arrived_from"),
        onward=None if onward is None else Onward(
            destination=(
                None if onward.get("destination") is None
                else _state(onward["destination"], "journey.onward.destination")
            ),
            departure_time=_aware(
                onward.get("departure_time"), "journey.onward.departure_time"
            ),
            departure_port=onward.get("departure_port"),
            confirmed=bool(onward.get("confirmed", False)),
            flight=onward.get("flight"),
            source=onward.get("source"),
            verified=bool(onward.get("verified", False)),
        ),
    )  # fmt: skip


def _entry_record(record: Mapping[str, Any]) -> EntryRecord:
    basis = record.get("basis")
    if basis is not None and basis not in BASES:
        raise CaseError("entry_record.basis", f"{basis!r} is not one of {', '.join(BASES)}")
    until = record.get("permitted_until")
    return EntryRecord(
        entry_time=_aware(record.get("entry_time"), "entry_record.entry_time"),
        port=record.get("port"),
        basis=basis,
        permitted_until=None if until is None else _aware(until, "entry_record.permitted_until"),
    )
