"""Facts for the policy: the document from DG1, the checks, the onward journey."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from devices.errors import ChipError
from devices.protocols import ChipReadResult
from kiosk.config import Config
from kiosk.ports import FaceVerification
from kiosk.trust.anticlone import AntiCloning, assess

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

    def case_document(self) -> dict[str, Any]:
        """The document object of the policy case format (docs/policy.md)."""
        return {
            "document_code": self.document_code,
            "issuing_state": self.issuing_state,
            "nationality": self.nationality,
            "document_number": self.document_number,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat(),
        }


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
    checks: Mapping[str, Any],
    face: FaceVerification | None,
    journey: Mapping[str, Any] | None,
    reference_age_h: float | None = None,
    entry_record: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The policy case (public format, docs/policy.md) for one traveller.

    A check is true, false, or None when it was not performed.
    """
    face_match = None if face is None or face.distance is None else bool(face.match)
    case: dict[str, Any] = {
        "now": now.astimezone(PORT_TIMEZONE).isoformat(),
        "port": config.kiosk.port,
        "direction": config.kiosk.direction,
        "document": facts.case_document(),
        "checks": {
            "document_authentic": bool(checks.get("document_authentic")),
            "chip_genuine": checks.get("chip_genuine"),
            "face_match": face_match,
            "liveness": _liveness(face),
            "watchlist_hit": bool(checks.get("watchlist_hit")),
        },
        "journey": dict(journey) if journey else None,
        "visa": None,
    }
    # Always given: a kiosk that has never synced (None) sends null, which the
    # policy treats as stale; the lane must not skip the freshness rule.
    case["reference_data"] = {
        "age_hours": None if reference_age_h is None else round(reference_age_h, 3)
    }
    if config.kiosk.direction == "exit":
        case["entry_record"] = dict(entry_record) if entry_record else None
    return case
