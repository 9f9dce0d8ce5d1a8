"""ICAO deviation lists (ICAO 9303-12 and BSI TR-03129): a CMS SignedData, eContentType
id-icao-DeviationList (2.23.136.1.1.7), in which an issuing state lists documents
known to deviate from Doc 9303 (a wrong EF.SOD signature, a wrong data-group hash...).

The list is decoded, its signature checked with the Deviation List Signer certificate
it carries, that signer's purpose checked (extended key usage
id-icao-DeviationListSigningKey) and the signer chained to a CSCA the store already
trusts. A failed verdict for a listed document names the deviation and refers
(`listed_deviation`); it is never turned into a pass: docs/trust.md, "Deviation lists".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import algos, core
from asn1crypto import cms as asn1_cms

from devices.icao9303.asn1 import DECODE_ERRORS
from devices.icao9303.sod import SodError, parse_signed_data
from kiosk.trust import cms
from kiosk.trust.certificates import Certificate
from kiosk.trust.errors import TrustError

ID_ICAO_DEVIATION_LIST = "2.23.136.1.1.7"
ID_ICAO_DEVIATION_LIST_SIGNING_KEY = "2.23.136.1.1.8"

# ICAO 9303-1 4.4: the deviation types, under id-icao-DeviationList.
DEVIATION_TYPES = {
    "2.23.136.1.1.7.1": "CertOrKey",
    "2.23.136.1.1.7.1.1": "CertOrKey-DSSignature",
    "2.23.136.1.1.7.1.2": "CertOrKey-DSEncoding",
    "2.23.136.1.1.7.1.3": "CertOrKey-CSCAEncoding",
    "2.23.136.1.1.7.1.4": "CertOrKey-AAKeyCompromised",
    "2.23.136.1.1.7.2": "LDS",
    "2.23.136.1.1.7.2.1": "LDS-DGMalformed",
    "2.23.136.1.1.7.2.2": "LDS-DGHashWrong",
    "2.23.136.1.1.7.2.3": "LDS-SODSignatureWrong",
    "2.23.136.1.1.7.2.4": "LDS-COMInconsistent",
    "2.23.136.1.1.7.3": "MRZ",
    "2.23.136.1.1.7.3.1": "MRZ-WrongData",
    "2.23.136.1.1.7.3.2": "MRZ-WrongCheckDigit",
    "2.23.136.1.1.7.4": "Chip",
    "2.23.136.1.1.7.5": "NationalUse",
}


class DeviationListError(TrustError):
    """The deviation list is malformed, or its signature or signer cannot be trusted."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- ASN.1 (BSI TR-03129; ICAO 9303-12) ------------------------------------------------


class _DocumentNumbers(core.SetOf):  # type: ignore[misc]
    _child_spec = core.PrintableString


class _IssuancePeriod(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("first_issuing_date", core.GeneralizedTime),
        ("last_issuing_date", core.GeneralizedTime),
    ]


class _DocumentSignerIdentifier(core.Choice):  # type: ignore[misc]
    _alternatives = [  # noqa: RUF012 - asn1crypto schema
        ("issuer_and_serial_number", asn1_cms.IssuerAndSerialNumber, {"implicit": 1}),
        ("subject_key_identifier", core.OctetString, {"implicit": 2}),
        ("certificate_digest", core.OctetString, {"implicit": 3}),
    ]


class _DeviationDocuments(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("document_type", core.PrintableString, {"implicit": 0, "optional": True}),
        ("dsc_identifier", _DocumentSignerIdentifier, {"optional": True}),
        ("issuing_date", _IssuancePeriod, {"implicit": 4, "optional": True}),
        ("document_numbers", _DocumentNumbers, {"implicit": 5, "optional": True}),
    ]


class _DeviationDescription(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("description", core.PrintableString, {"optional": True}),
        ("deviation_type", core.ObjectIdentifier),
        ("parameters", core.Any, {"explicit": 0, "optional": True}),
        ("national_use", core.Any, {"explicit": 1, "optional": True}),
    ]


class _Descriptions(core.SetOf):  # type: ignore[misc]
    _child_spec = _DeviationDescription


class _Deviation(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("documents", _DeviationDocuments),
        ("descriptions", _Descriptions),
    ]


class _Deviations(core.SetOf):  # type: ignore[misc]
    _child_spec = _Deviation


class _DeviationListAsn1(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("version", core.Integer),
        ("digest_alg", algos.DigestAlgorithm, {"optional": True}),
        ("deviations", _Deviations),
    ]


# --- decoded ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """One listed deviation: which documents, and what is wrong with them."""

    types: tuple[str, ...]  # dotted OIDs
    document_type: str | None
    document_numbers: frozenset[str]
    issued_from: datetime | None
    issued_until: datetime | None
    dsc: str | None  # how the DS certificate is named, when the deviation is per DS

    def describe(self) -> dict[str, Any]:
        return {
            "types": [DEVIATION_TYPES.get(t, t) for t in self.types],
            "document_type": self.document_type,
            "documents": len(self.document_numbers),
            "issued_from": self.issued_from.isoformat() if self.issued_from else None,
            "issued_until": self.issued_until.isoformat() if self.issued_until else None,
            "dsc": self.dsc,
        }


@dataclass(frozen=True)
class DeviationList:
    sha256: str
    signer: Certificate
    signing_time: datetime | None
    signature_algorithm: str
    deviations: tuple[Deviation, ...]

    @property
    def country(self) -> str | None:
        return self.signer.country

    def describe(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "country": self.country,
            "signer": self.signer.describe(),
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signature_algorithm": self.signature_algorithm,
            "deviations": [d.describe() for d in self.deviations],
        }


def _deviation(item: Any) -> Deviation:
    docs = item["documents"]
    numbers: frozenset[str] = frozenset()
    if not isinstance(docs["document_numbers"], core.Void):
        numbers = frozenset(str(n.native) for n in docs["document_numbers"])
    period = docs["issuing_date"]
    first = last = None
    if not isinstance(period, core.Void):
        first = period["first_issuing_date"].native
        last = period["last_issuing_date"].native
    dsc_choice = docs["dsc_identifier"]
    dsc = None
    if not isinstance(dsc_choice, core.Void):
        dsc = f"{dsc_choice.name}:{dsc_choice.chosen.dump().hex()}"
    doc_type = docs["document_type"]
    return Deviation(
        types=tuple(str(d["deviation_type"].dotted) for d in item["descriptions"]),
        document_type=None if isinstance(doc_type, core.Void) else str(doc_type.native),
        document_numbers=numbers,
        issued_from=first,
        issued_until=last,
        dsc=dsc,
    )


def parse_deviations(econtent: bytes) -> tuple[Deviation, ...]:
    try:
        parsed = _DeviationListAsn1.load(econtent, strict=True)
        version = int(parsed["version"].native)
        if version != 0:
            raise DeviationListError("malformed_deviation_list", f"version {version}")
        return tuple(_deviation(item) for item in parsed["deviations"])
    except DeviationListError:
        raise
    except DECODE_ERRORS as exc:
        raise DeviationListError("malformed_deviation_list", f"bad DeviationList: {exc}") from exc


def is_deviation_list(raw: bytes) -> bool:
    try:
        parse_signed_data(raw, ID_ICAO_DEVIATION_LIST)
    except SodError:
        return False
    return True


def verify_deviation_list(
    raw: bytes, chains: Callable[[Certificate, datetime], Certificate | None], at: datetime
) -> DeviationList:
    """Decode and verify a deviation list. `chains(signer, when)` returns the CSCA the
    signer chains to in the store as of `when` (the signing time), or None. Raises
    DeviationListError with a stable code."""
    checked = cms.verify_single_signer_list(
        raw, ID_ICAO_DEVIATION_LIST, "deviation_list", DeviationListError
    )
    signed, info, signer, scheme = checked.signed, checked.info, checked.signer, checked.scheme
    if "digital_signature" not in signer.key_usage or (
        signer.extended_key_usage
        and ID_ICAO_DEVIATION_LIST_SIGNING_KEY not in signer.extended_key_usage
    ):
        raise DeviationListError(
            "bad_key_usage", f"{signer.subject} is not a deviation list signer"
        )
    # A list stays as good as the day it was signed: the signer must have been valid
    # then (its own validity often ends months after signing, as Estonia's did).
    when = info.signing_time or at
    if not signer.valid_at(when):
        raise DeviationListError(
            "expired_deviation_list_signer",
            f"signer valid {signer.not_before:%Y-%m-%d}..{signer.not_after:%Y-%m-%d}, "
            f"list signed {when:%Y-%m-%d}",
        )
    csca = chains(signer, when)
    if csca is None:
        raise DeviationListError(
            "unknown_deviation_list_signer",
            f"the signer {signer.subject} chains to no trusted CSCA of {signer.issuer}",
        )
    return DeviationList(
        sha256=hashlib.sha256(raw).hexdigest(),
        signer=signer,
        signing_time=info.signing_time,
        signature_algorithm=scheme.label,
        deviations=parse_deviations(signed.econtent),
    )


# The failures a listed deviation type explains. Only these are matched; other types
# (MRZ, chip, encoding deviations) are named when a document is listed but explain no
# passive-authentication failure.
_EXPLAINS = {
    "2.23.136.1.1.7.2.3": ("bad_signature",),  # LDS-SODSignatureWrong
    "2.23.136.1.1.7.2.2": ("hash_mismatch_dg",),  # LDS-DGHashWrong (any group)
}


def listed_deviation(
    lists: list[DeviationList], country: str | None, document_number: str, reasons: list[str]
) -> dict[str, Any] | None:
    """The deviation that lists this document (by number, in a list of the state whose
    DS certificate signed it), and which of the verdict's failures it explains. The
    action is always "refer": a listed deviation names the failure for the officer,
    it never opens the gate (docs/trust.md, "Deviation lists")."""
    if not country:
        return None
    for dl in lists:
        if (dl.country or "").upper() != country.upper():
            continue
        for deviation in dl.deviations:
            if document_number not in deviation.document_numbers:
                continue
            prefixes = [p for t in deviation.types for p in _EXPLAINS.get(t, ())]
            explained = [r for r in reasons if any(r.startswith(p) for p in prefixes)]
            return {
                "list": dl.sha256,
                "country": dl.country,
                "types": [DEVIATION_TYPES.get(t, t) for t in deviation.types],
                "explains": explained,
                "unexplained": [r for r in reasons if r not in explained],
                "action": "refer",
            }
    return None
