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
from datetime import datetime
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
        super().__init__(message)
        self.code = code


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
        }


def _list_entries(econtent: bytes) -> tuple[list[Certificate], list[str]]:
    try:
        parsed = CscaMasterListAsn1.load(econtent, strict=True)
        version = int(parsed["version"].native)
        raw_certs = [c.dump() for c in parsed["cert_list"]]
    except DECODE_ERRORS as exc:
        raise MasterListError("malformed_master_list", f"bad CscaMasterList: {exc}") from exc
    if version != 0:
        raise MasterListError("malformed_master_list", f"CscaMasterList version {version}")
    certs: list[Certificate] = []
    skipped: list[str] = []
    for index, der in enumerate(raw_certs):
        try:
            cert = parse_certificate(der)
        except MalformedInputError as exc:
            skipped.append(f"entry {index}: {exc}")
            continue
        if not cert.is_ca or "key_cert_sign" not in cert.key_usage:
            skipped.append(f"entry {index}: {cert.subject} is not a CSCA certificate")
            continue
        certs.append(cert)
    return certs, skipped


def _issuer_in(cert: Certificate, pool: Sequence[Certificate]) -> Certificate | None:
    """The CA certificate of `pool` whose name and key issued `cert`."""
    return next(
        (
            c
            for c in pool
            if c.is_ca
            and c.subject_key == cert.issuer_key
            and c.sha256 != cert.sha256
            and _verifies(c, cert)
        ),
        None,
    )


def _verifies(issuer: Certificate, cert: Certificate) -> bool:
    try:
        signatures.verify_signature(
            issuer.spki_der, cert.signature_algorithm_der, cert.tbs_der, cert.signature
        )
    except TrustError:
        return False
    return True


def verify_master_list(
    raw: bytes,
    trusted: Sequence[Certificate],
    at: datetime,
    *,
    require_known_signer: bool = True,
    check_signer_validity: bool = True,
    intermediates: Sequence[Certificate] = (),
) -> MasterList:
    """Decode and verify a master list. `trusted` are the provisioned anchors that may
    vouch for it, `intermediates` link certificates that may lead to them; raises
    MasterListError with a stable code on any failure."""
    try:
        signed = parse_signed_data(raw, ID_ICAO_CSCA_MASTER_LIST)
    except SodError as exc:
        raise MasterListError("malformed_master_list", str(exc)) from exc
    if len(signed.signer_infos) != 1:
        raise MasterListError(
            "malformed_master_list", f"{len(signed.signer_infos)} SignerInfos, expected one"
        )
    info = signed.signer_infos[0]
    signer, _notes = cms.find_signer_certificate(info, signed.certificates)
    if signer is None:
        raise MasterListError(
            "unknown_master_list_signer",
            f"the signer certificate ({cms.signer_reference(info)}) is not in the list",
        )
    attrs = cms.check_signed_attributes(info, signed.econtent_type, signed.econtent)
    if attrs.reason is not None:
        raise MasterListError(attrs.reason, attrs.detail)
    try:
        scheme = cms.verify_signer(info, signed.econtent, signer)
    except TrustError as exc:
        raise MasterListError("bad_master_list_signature", str(exc)) from exc
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
    if check_signer_validity and not signer.valid_at(at):
        raise MasterListError(
            "expired_master_list_signer",
            f"master list signer valid {signer.not_before:%Y-%m-%d}..{signer.not_after:%Y-%m-%d}",
        )
    certs, skipped = _list_entries(signed.econtent)
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
        links = [c for c in [*intermediates, *certs, *extra] if c.self_issued or c.is_ca]
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
    )


def is_master_list(raw: bytes) -> bool:
    """Whether `raw` looks like a CMS SignedData with the master list content type."""
    try:
        parse_signed_data(raw, ID_ICAO_CSCA_MASTER_LIST)
    except SodError:
        return False
    return True
