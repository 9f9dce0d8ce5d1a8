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
from policy.case import (
    Case,
    Checks,
    Document,
    parse_document,
    parse_entry_record,
    parse_journey,
)

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

    A check is true, false, or None when it was not performed. The document, the journey
    and the entry record come from outside the process (DG1, the journey resolver, the
    border database) and pass the case format's own schema (policy.case.parse_*), so a
    lane-built case holds nothing `parse_case` would refuse.
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
        journey=parse_journey(journey),
        visa=None,
        # Always given: a kiosk that has never synced (None) is infinitely stale;
        # the lane must not skip the freshness rule.
        reference_age_hours=math.inf if reference_age_h is None else round(reference_age_h, 3),
        entry_record=(
            parse_entry_record(entry_record)
            if config.kiosk.direction == "exit" and entry_record
            else None
        ),
        case_id=None,
    )


def _case_document(facts: DocumentFacts) -> Document:
    return parse_document(
        {
            "document_code": facts.document_code,
            "issuing_state": facts.issuing_state,
            "nationality": facts.nationality,
            "document_number": facts.document_number,
            "birth_date": facts.birth_date,
            "sex": facts.sex or "<",
            "expiry_date": facts.expiry_date,
        }
    )
