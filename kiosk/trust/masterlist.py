"""ICAO CSCA master lists (ICAO 9303-12 9): a CMS SignedData over a CscaMasterList.

A master list is only as trustworthy as its signer. We verify the CMS signature
with the master list signer certificate it carries, then chain that signer to a
CSCA the kiosk already trusts ("store": a locally provisioned anchor, directly or
through a link certificate after its key rollover). Only the logged first bootstrap
of an installation (`require_known_signer=False`) accepts a signer that chains to a
CSCA in the list itself ("list": self-consistent only; the operator must check the
reported signer CSCA fingerprint out of band).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from devices.icao9303.asn1 import DECODE_ERRORS
from devices.icao9303.masterlist_schema import (
    ID_ICAO_CSCA_MASTER_LIST,
    ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY,
)
from devices.icao9303.masterlist_schema import CscaMasterList as CscaMasterListAsn1
from devices.icao9303.sod import SodError, parse_signed_data
from kiosk.trust import cms, signatures
from kiosk.trust.certificates import Certificate, parse_certificate
from kiosk.trust.errors import MalformedInputError, TrustError

SignerAnchor = Literal["store", "list"]


class MasterListError(TrustError):
    """The master list is malformed or its signature or signer cannot be trusted."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)


@dataclass(frozen=True)
class MasterList:
    """A verified master list: its CSCA certificates and who signed it."""

    sha256: str
    certificates: tuple[Certificate, ...]
    signer: Certificate
    signer_csca: Certificate
    signer_anchor: SignerAnchor
    signature_algorithm: str
    signing_time: datetime | None
    skipped: tuple[str, ...]  # entries not imported, with the reason
    entries: tuple[ListEntry, ...] = ()  # every certificate of the list, in order

    def describe(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "certificates": len(self.certificates),
            "signer": self.signer.describe(),
            "signer_csca": self.signer_csca.describe(),
            "signer_anchor": self.signer_anchor,
            "signature_algorithm": self.signature_algorithm,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "skipped": list(self.skipped),
            "roles": self.role_counts(),
        }

    def role_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            key = entry.role or "skipped"
            counts[key] = counts.get(key, 0) + 1
        return counts


EntryRole = Literal["anchor_candidate", "link", "cross"]


@dataclass(frozen=True)
class ListEntry:
    """One certificate of a master list and what became of it: imported with a role,
    or skipped with the reason (issue 20: nothing is dropped silently)."""

    index: int
    role: EntryRole | None  # None: skipped
    cert: Certificate | None
    reason: str = ""  # why it was skipped
    note: str = ""  # imported, with a caveat

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index}
        if self.role is not None:
            out |= {"status": "imported", "role": self.role}
            if self.note:
                out["note"] = self.note
        else:
            out |= {"status": "skipped", "reason": self.reason}
        if self.cert is not None:
            out |= self.cert.describe()
        return out


def entry_role(cert: Certificate) -> EntryRole:
    """anchor_candidate: self-signed (a root, trusted once the list is); link: same
    name, signed by another key (a key rollover, ICAO 9303-12 5.5.2); cross: signed
    under another name (a renamed CSCA, or another CSCA's cross certificate). Links
    and cross certificates are intermediates whatever their signature algorithm."""
    if cert.self_issued:
        return "anchor_candidate" if is_self_signed(cert) else "link"
    return "cross"


def is_self_signed(cert: Certificate) -> bool:
    """Signed by its own key: a root, unlike a link, which keeps the name but is
    signed by the previous key."""
    if not cert.self_issued:
        return False
    if cert.aki is not None and cert.ski is not None and cert.aki != cert.ski:
        return False  # names another key: a link; no signature to check
    return _verifies(cert, cert)


def _list_entries(econtent: bytes) -> list[ListEntry]:
    try:
        parsed = CscaMasterListAsn1.load(econtent, strict=True)
        version = int(parsed["version"].native)
        raw_certs = [c.dump() for c in parsed["cert_list"]]
    except DECODE_ERRORS as exc:
        raise MasterListError("malformed_master_list", f"bad CscaMasterList: {exc}") from exc
    if version != 0:
        raise MasterListError("malformed_master_list", f"CscaMasterList version {version}")
    entries: list[ListEntry] = []
    seen: dict[str, int] = {}
    for index, der in enumerate(raw_certs):
        try:
            cert = parse_certificate(der)
        except MalformedInputError as exc:
            entries.append(ListEntry(index, None, None, f"undecodable certificate: {exc}"))
            continue
        if cert.sha256 in seen:
            entries.append(ListEntry(index, None, cert, f"duplicate of entry {seen[cert.sha256]}"))
            continue
        seen[cert.sha256] = index
        if not cert.issues_certificates and "key_cert_sign" not in cert.key_usage:
            reason = "not a CSCA, link or cross certificate (no keyCertSign)"
            entries.append(ListEntry(index, None, cert, reason))
            continue
        role = entry_role(cert)
        if role == "anchor_candidate" and not cert.issues_certificates:
            reason = "self-signed but basicConstraints cA=FALSE: not a CSCA"
            entries.append(ListEntry(index, None, cert, reason))
            continue
        note = ""
        if not cert.issues_certificates:
            note = (
                "basicConstraints cA=FALSE: kept, but not used as an issuer in a "
                "certificate path (RFC 5280 4.2.1.9; openssl agrees)"
            )
        entries.append(ListEntry(index, role, cert, note=note))
    return entries


def _issuer_in(cert: Certificate, pool: Sequence[Certificate]) -> Certificate | None:
    """The CA certificate of `pool` whose name and key issued `cert`: those of the
    issuer's name, the one whose SKI is `cert`'s AKI tried first, so the first
    signature checked is the right one after a key rollover."""
    named = [
        c
        for c in pool
        if c.subject_key == cert.issuer_key and c.issues_certificates and c.sha256 != cert.sha256
    ]
    named.sort(key=lambda c: cert.aki is None or c.ski != cert.aki)
    return next((c for c in named if _verifies(c, cert)), None)


# (issuer sha256, certificate sha256) -> whether the signature verifies: a store
# reload re-classifies every list entry, and a verdict on the same bytes cannot change.
_VERIFIED: dict[tuple[str, str], bool] = {}
_VERIFIED_LIMIT = 8192


def forget_verified() -> None:
    """Drop the remembered signature verdicts (benchmarks: a cold process)."""
    _VERIFIED.clear()


def _verifies(issuer: Certificate, cert: Certificate) -> bool:
    key = (issuer.sha256, cert.sha256)
    known = _VERIFIED.get(key)
    if known is not None:
        return known
    try:
        signatures.verify_signature(
            issuer.spki_der, cert.signature_algorithm_der, cert.tbs_der, cert.signature
        )
        known = True
    except TrustError:
        known = False
    if len(_VERIFIED) >= _VERIFIED_LIMIT:
        _VERIFIED.clear()
    _VERIFIED[key] = known
    return known


@dataclass(frozen=True)
class ListRules:
    """Master-list trust rules (docs/trust.md, "Master-list trust rules").

    vouched_may_sign_lists: a CSCA that is trusted only because a trusted list vouches
    for it may vouch for another list's signer. Off: trust would then flow from list to
    list, and one state's CSCA key (or one wrong entry) could bring in any other
    state's list; ICAO 9303-12 expects the list signer's CSCA to be obtained bilaterally.

    signer_grace: a list signed (signingTime) while its signer was valid stays
    importable this long after the signer expires. Zero: the signer must be valid at
    import, the conservative reading; a list without signingTime gets no grace."""

    vouched_may_sign_lists: bool = False
    signer_grace: timedelta = timedelta(0)


def _signer_validity_problem(
    signer: Certificate, signing_time: datetime | None, at: datetime, grace: timedelta
) -> str | None:
    span = f"master list signer valid {signer.not_before:%Y-%m-%d}..{signer.not_after:%Y-%m-%d}"
    if signing_time is not None and not signer.valid_at(signing_time):
        return f"{span}; the list was signed {signing_time:%Y-%m-%d}, outside it"
    if at < signer.not_before:
        return f"{span}; not yet valid"
    allowed = grace if signing_time is not None else timedelta(0)
    if at > signer.not_after + allowed:
        tail = f" plus {allowed.days} day(s) of grace" if allowed else ""
        return f"{span}{tail}; checked {at:%Y-%m-%d}"
    return None


def verify_master_list(
    raw: bytes,
    trusted: Sequence[Certificate],
    at: datetime,
    *,
    require_known_signer: bool = True,
    check_signer_validity: bool = True,
    intermediates: Sequence[Certificate] = (),
    rules: ListRules | None = None,
) -> MasterList:
    """Decode and verify a master list. `trusted` are the provisioned anchors that may
    vouch for it, `intermediates` link certificates that may lead to them; raises
    MasterListError with a stable code on any failure."""
    checked = cms.verify_single_signer_list(
        raw, ID_ICAO_CSCA_MASTER_LIST, "master_list", MasterListError
    )
    signed, info, signer, scheme = checked.signed, checked.info, checked.signer, checked.scheme
    if "digital_signature" not in signer.key_usage:
        raise MasterListError(
            "bad_key_usage", f"master list signer {signer.subject} lacks digitalSignature"
        )
    if signer.extended_key_usage and (
        ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY not in signer.extended_key_usage
    ):
        raise MasterListError(
            "bad_key_usage", f"master list signer {signer.subject} is not for master lists"
        )
    rules = rules or ListRules()
    problem = (
        _signer_validity_problem(signer, info.signing_time, at, rules.signer_grace)
        if check_signer_validity
        else None
    )
    if problem is not None:
        raise MasterListError("expired_master_list_signer", problem)
    entries = _list_entries(signed.econtent)
    certs = [e.cert for e in entries if e.role is not None and e.cert is not None]
    skipped = [f"entry {e.index}: {e.reason}" for e in entries if e.role is None]
    extra: list[Certificate] = []
    for der in signed.certificates:
        if der != signer.der:
            try:
                extra.append(parse_certificate(der))
            except MalformedInputError as exc:
                skipped.append(f"SignedData certificate: {exc}")
    anchor: tuple[Certificate, SignerAnchor] | None = None
    found = _issuer_in(signer, trusted)
    if found is None:
        # After a key rollover the signer's issuer is the new CSCA key: accept it when
        # a link certificate (in the store or the list) leads to a trusted key.
        links = [c for c in [*intermediates, *certs, *extra] if c.issues_certificates]
        link = _issuer_in(signer, links)
        if link is not None and _issuer_in(link, trusted) is not None:
            found = link
    if found is not None:
        anchor = (found, "store")
    else:
        own = _issuer_in(signer, [*certs, *extra])
        if own is not None:
            anchor = (own, "list")
    if anchor is None:
        raise MasterListError(
            "unknown_master_list_signer",
            f"no CSCA for the master list signer's issuer {signer.issuer}",
        )
    if require_known_signer and anchor[1] != "store":
        raise MasterListError(
            "unknown_master_list_signer",
            f"the signer's CSCA {anchor[0].subject} (sha256 {anchor[0].sha256}) is not a "
            "provisioned trust anchor (first bootstrap: --bootstrap-anchor)",
        )
    return MasterList(
        sha256=hashlib.sha256(raw).hexdigest(),
        certificates=tuple(certs),
        signer=signer,
        signer_csca=anchor[0],
        signer_anchor=anchor[1],
        signature_algorithm=scheme.label,
        signing_time=info.signing_time,
        skipped=tuple(skipped),
        entries=tuple(entries),
    )


def is_master_list(raw: bytes) -> bool:
    """Whether `raw` looks like a CMS SignedData with the master list content type."""
    try:
        parse_signed_data(raw, ID_ICAO_CSCA_MASTER_LIST)
    except SodError:
        return False
    return True


def is_unsigned_master_list(raw: bytes) -> bool:
    """Whether `raw` is a bare CscaMasterList (version 0 and a SET OF certificates)."""
    try:
        parsed = CscaMasterListAsn1.load(raw, strict=True)
        return int(parsed["version"].native) == 0 and len(parsed["cert_list"]) > 0
    except DECODE_ERRORS:
        return False
