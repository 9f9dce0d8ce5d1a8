"""ICAO deviation lists (ICAO 9303-12 and BSI TR-03129): a CMS SignedData, eContentType
id-icao-DeviationList (2.23.136.1.1.7), in which an issuing state lists documents
known to deviate from Doc 9303 (a wrong EF.SOD signature, a wrong data-group hash...).

The list is decoded, its signature checked with the Deviation List Signer certificate
it carries, that signer's purpose checked (extended key usage
id-icao-DeviationListSigningKey) and the signer chained to a CSCA the store already
trusts. A failed verdict for a listed document names the deviation
(`listed_deviation`) and refers, or, under the kiosk policy "accept_listed" and only
for a deviation type that cannot hide a forgery, is accepted with a note:
docs/trust.md, "Deviation lists".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from asn1crypto import algos, core
from asn1crypto import cms as asn1_cms

from devices.icao9303.asn1 import DECODE_ERRORS
from devices.icao9303.sod import SodError, parse_signed_data
from kiosk.trust import cms
from kiosk.trust.certificates import Certificate, name_info
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
        super().__init__(message, code)


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
    dsc_issuer_key: str | None = None  # issuerAndSerialNumber: issuer name key...
    dsc_serial: int | None = None  # ...and serial
    dsc_ski: bytes | None = None  # subjectKeyIdentifier
    dsc_digest: bytes | None = None  # certificateDigest (the list's digestAlg)
    # Data groups a data-group deviation's parameters name (INTEGER 1..16, TR-03129);
    # empty: the deviation does not say which.
    data_groups: frozenset[int] = frozenset()

    def describe(self) -> dict[str, Any]:
        return {
            "types": [DEVIATION_TYPES.get(t, t) for t in self.types],
            "document_type": self.document_type,
            "documents": len(self.document_numbers),
            "issued_from": self.issued_from.isoformat() if self.issued_from else None,
            "issued_until": self.issued_until.isoformat() if self.issued_until else None,
            "dsc": self.dsc,
            "data_groups": sorted(self.data_groups),
        }


@dataclass(frozen=True)
class DeviationList:
    sha256: str
    signer: Certificate
    signing_time: datetime | None
    signature_algorithm: str
    deviations: tuple[Deviation, ...]
    digest_algorithm: str = "sha256"  # of certificateDigest identifiers

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


def _document_number(text: str) -> str:
    """Compared as the MRZ gives it: upper case, without trailing fillers."""
    return text.strip().rstrip("<").upper()


def _deviation(item: Any) -> Deviation:
    docs = item["documents"]
    numbers: frozenset[str] = frozenset()
    if not isinstance(docs["document_numbers"], core.Void):
        numbers = frozenset(_document_number(str(n.native)) for n in docs["document_numbers"])
    period = docs["issuing_date"]
    first = last = None
    if not isinstance(period, core.Void):
        first = period["first_issuing_date"].native
        last = period["last_issuing_date"].native
    dsc_choice = docs["dsc_identifier"]
    dsc = issuer_key = serial = ski = digest = None
    if not isinstance(dsc_choice, core.Void):
        dsc = f"{dsc_choice.name}:{dsc_choice.chosen.dump().hex()}"
        if dsc_choice.name == "issuer_and_serial_number":
            issuer_key = name_info(dsc_choice.chosen["issuer"]).key
            serial = int(dsc_choice.chosen["serial_number"].native)
        elif dsc_choice.name == "subject_key_identifier":
            ski = bytes(dsc_choice.chosen.native)
        else:
            digest = bytes(dsc_choice.chosen.native)
    doc_type = docs["document_type"]
    return Deviation(
        types=tuple(str(d["deviation_type"].dotted) for d in item["descriptions"]),
        data_groups=_data_groups(item["descriptions"]),
        document_type=None if isinstance(doc_type, core.Void) else str(doc_type.native),
        document_numbers=numbers,
        issued_from=first,
        issued_until=last,
        dsc=dsc,
        dsc_issuer_key=issuer_key,
        dsc_serial=serial,
        dsc_ski=ski,
        dsc_digest=digest,
    )


def _data_groups(descriptions: Any) -> frozenset[int]:
    """The data groups named by the parameters of LDS-DGMalformed / LDS-DGHashWrong
    descriptions when those are an INTEGER 1..16; parameters of another form name
    none (the deviation then applies to whichever group fails)."""
    groups: set[int] = set()
    for description in descriptions:
        parameters = description["parameters"]
        if isinstance(parameters, core.Void) or str(description["deviation_type"].dotted) not in (
            "2.23.136.1.1.7.2.1",
            "2.23.136.1.1.7.2.2",
        ):
            continue
        try:
            value = parameters.parse(core.Integer).native
        except DECODE_ERRORS:
            continue
        if isinstance(value, int) and 1 <= value <= 16:
            groups.add(value)
    return frozenset(groups)


def parse_deviations(econtent: bytes) -> tuple[Deviation, ...]:
    return _parse(econtent)[1]


def _parse(econtent: bytes) -> tuple[str, tuple[Deviation, ...]]:
    """(digest algorithm of certificateDigest identifiers, deviations)."""
    try:
        parsed = _DeviationListAsn1.load(econtent, strict=True)
        version = int(parsed["version"].native)
        if version != 0:
            raise DeviationListError("malformed_deviation_list", f"version {version}")
        digest_alg = parsed["digest_alg"]
        algorithm = (
            "sha256" if isinstance(digest_alg, core.Void) else str(digest_alg["algorithm"].native)
        )
        return algorithm, tuple(_deviation(item) for item in parsed["deviations"])
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
    digest_algorithm, deviations = _parse(signed.econtent)
    return DeviationList(
        sha256=hashlib.sha256(raw).hexdigest(),
        signer=signer,
        signing_time=info.signing_time,
        signature_algorithm=scheme.label,
        deviations=deviations,
        digest_algorithm=digest_algorithm,
    )


# --- applied to a verdict ------------------------------------------------------------

DeviationPolicy = Literal["refer", "accept_listed"]
DEVIATION_POLICIES: tuple[DeviationPolicy, ...] = ("refer", "accept_listed")
# The default never opens the gate on a listed deviation: it names it and refers.
DEFAULT_DEVIATION_POLICY: DeviationPolicy = "refer"
ACCEPT_WITH_NOTE = "accept_with_note"
REFER = "refer"

# Data groups the gate decides on (DG1 MRZ, DG2 face) or that prove the chip
# (DG14 chip authentication, DG15 active authentication): a wrong hash there leaves
# the identity or the chip unproven, so it is referred whatever a list says.
DECISION_GROUPS = frozenset({1, 2, 14, 15})


@dataclass(frozen=True)
class DeviationRule:
    explains: tuple[str, ...]  # verdict reasons (prefixes) the deviation type accounts for
    acceptable: bool  # may be accepted with a note under the policy "accept_listed"


# The deviation types (ICAO 9303-1 4.4) that account for a passive-authentication
# failure; any other type is named when a document is listed but explains nothing,
# so the document is referred (docs/trust.md, "Deviation lists").
DEVIATION_RULES = {
    # The signature is the only proof the data is the issuer's: a listed number does
    # not replace it (anyone can write a listed number into a forged chip).
    "2.23.136.1.1.7.2.3": DeviationRule(("bad_signature",), acceptable=False),
    # The signature holds, one group's hash does not: acceptable outside DECISION_GROUPS.
    "2.23.136.1.1.7.2.2": DeviationRule(("hash_mismatch_dg",), acceptable=True),
}


@dataclass(frozen=True)
class DocumentFacts:
    """What identifies a document for a deviation list (ICAO 9303-12 DeviationDocuments)."""

    country: str | None  # of the DS certificate that signed it
    document_number: str | None  # DG1
    document_code: str | None  # DG1 ("P", "ID"...)
    issued: date | None  # DG12 date of issue, else EF.SOD signingTime
    ds: Certificate | None


def _matched_by(
    deviation: Deviation, facts: DocumentFacts, digest_algorithm: str
) -> list[str] | None:
    """The criteria of `deviation` the document meets, or None when one it lists is
    not met (every criterion a deviation gives must hold). A deviation that gives no
    criterion at all is matched by no document rather than by all of them."""
    matched: list[str] = []
    if deviation.document_numbers:
        number = facts.document_number
        if number is None or _document_number(number) not in deviation.document_numbers:
            return None
        matched.append("document_number")
    if deviation.document_type is not None:
        if facts.document_code is None or (
            facts.document_code.rstrip("<") != deviation.document_type.rstrip("<")
        ):
            return None
        matched.append("document_type")
    if deviation.issued_from is not None or deviation.issued_until is not None:
        if facts.issued is None:
            return None
        if deviation.issued_from is not None and facts.issued < deviation.issued_from.date():
            return None
        if deviation.issued_until is not None and facts.issued > deviation.issued_until.date():
            return None
        matched.append("issuing_date")
    if deviation.dsc is not None:
        if facts.ds is None or not _same_signer(deviation, facts.ds, digest_algorithm):
            return None
        matched.append("ds_certificate")
    return matched or None


def _same_signer(deviation: Deviation, ds: Certificate, digest_algorithm: str) -> bool:
    if deviation.dsc_issuer_key is not None:
        return deviation.dsc_issuer_key == ds.issuer_key and deviation.dsc_serial == ds.serial
    if deviation.dsc_ski is not None:
        return ds.ski is not None and hmac.compare_digest(deviation.dsc_ski, ds.ski)
    if deviation.dsc_digest is not None:
        try:
            digest = hashlib.new(digest_algorithm.replace("-", ""), ds.der).digest()
        except ValueError:
            return False
        return hmac.compare_digest(deviation.dsc_digest, digest)
    return False


def _verdict_on(deviation: Deviation, reason: str) -> tuple[bool, bool]:
    """(whether `deviation` explains `reason`, whether it may then be accepted). A
    data-group deviation whose parameters name groups explains those groups only."""
    explains = acceptable = False
    for oid in deviation.types:
        rule = DEVIATION_RULES.get(oid)
        if rule is None or not any(reason.startswith(p) for p in rule.explains):
            continue
        group = reason.removeprefix("hash_mismatch_dg")
        if group != reason:
            if not group.isdigit():
                continue
            if deviation.data_groups and int(group) not in deviation.data_groups:
                continue
            explains = True
            acceptable = acceptable or (rule.acceptable and int(group) not in DECISION_GROUPS)
        else:
            explains = True
            acceptable = acceptable or rule.acceptable
    return explains, acceptable


def listed_deviation(
    lists: list[DeviationList],
    facts: DocumentFacts,
    reasons: list[str],
    policy: DeviationPolicy = DEFAULT_DEVIATION_POLICY,
) -> dict[str, Any] | None:
    """The deviations that list this document (in lists of the state whose DS
    certificate signed it: by document number, document type, issuance period and DS
    certificate, as each deviation gives them), which of the verdict's failures they
    explain, and the action: "accept_with_note" only under the policy
    "accept_listed" when every failure is explained by a type that may be accepted;
    "refer" otherwise (docs/trust.md, "Deviation lists")."""
    if not facts.country:
        return None
    types: list[str] = []
    matched_by: set[str] = set()
    listed_in: list[str] = []
    matched: list[Deviation] = []
    for dl in lists:
        if (dl.country or "").upper() != facts.country.upper():
            continue
        for deviation in dl.deviations:
            criteria = _matched_by(deviation, facts, dl.digest_algorithm)
            if criteria is None:
                continue
            matched.append(deviation)
            matched_by.update(criteria)
            types.extend(t for t in deviation.types if t not in types)
            if dl.sha256 not in listed_in:
                listed_in.append(dl.sha256)
    if not listed_in:
        return None
    explained: list[str] = []
    acceptable: list[str] = []
    for reason in reasons:
        verdicts = [_verdict_on(d, reason) for d in matched]
        if any(explains for explains, _ in verdicts):
            explained.append(reason)
        if any(explains and ok for explains, ok in verdicts):
            acceptable.append(reason)
    unexplained = [r for r in reasons if r not in explained]
    accept = (
        policy == "accept_listed"
        and bool(explained)
        and not unexplained
        and acceptable == explained
    )
    return {
        "list": listed_in[0],
        "lists": listed_in,
        "country": facts.country.upper(),
        "types": [DEVIATION_TYPES.get(t, t) for t in types],
        "matched_by": sorted(matched_by),
        "explains": explained,
        "unexplained": unexplained,
        "policy": policy,
        "action": ACCEPT_WITH_NOTE if accept else REFER,
    }
