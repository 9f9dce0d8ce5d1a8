"""CscaStore: the kiosk's trust anchors, link certificates, document signers and CRLs.

Trust model (docs/trust.md): a self-signed CSCA certificate in the store is a trust
anchor; a CSCA link certificate is an intermediate that must chain to one; a
document signer certificate from the store only spares reading it from EF.SOD and
is chained like any other. Everything in the store was put there by an operator
(`egate trust import`) or synced from the border database, with its provenance.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from kiosk.trust import signatures
from kiosk.trust.certificates import (
    Certificate,
    Crl,
    load_certificates,
    parse_certificate,
    parse_crl,
)
from kiosk.trust.errors import TrustError
from kiosk.trust.masterlist import MasterList, verify_master_list

# Kinds in the reference-data table (kiosk/store/reference.py).
KIND_CSCA = "csca"
KIND_DSC = "dsc"
KIND_CRL = "crl"
KIND_MASTER_LIST = "masterlist"

CertificateRole = Literal["csca", "link", "ca", "document_signer", "other"]


class ReferenceItemLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def provenance(self) -> str: ...


class ReferenceStoreLike(Protocol):
    """What CscaStore needs of kiosk.store.reference.ReferenceStore."""

    def put(self, kind: str, key: str, payload: bytes, provenance: str) -> bool: ...

    def items(self, kind: str) -> Any: ...


@dataclass(frozen=True)
class StoredCertificate:
    cert: Certificate
    role: CertificateRole
    provenance: str


@dataclass(frozen=True)
class StoredCrl:
    crl: Crl
    provenance: str


def is_self_signed(cert: Certificate) -> bool:
    """Signed by its own key: the mark of a root, unlike a link certificate, which
    keeps the CSCA's name but is signed by the previous key."""
    if not cert.self_issued:
        return False
    try:
        signatures.verify_signature(
            cert.spki_der, cert.signature_algorithm_der, cert.tbs_der, cert.signature
        )
    except TrustError:
        return False
    return True


def classify(cert: Certificate) -> CertificateRole:
    if cert.is_ca:
        if is_self_signed(cert):
            return "csca"
        return "link" if cert.self_issued else "ca"
    if "digital_signature" in cert.key_usage:
        return "document_signer"
    return "other"


class CscaStore:
    """In-memory trust store, built from certificates and CRLs or from the local
    reference-data table. Adding the same object twice is harmless."""

    def __init__(self) -> None:
        self._certs: dict[str, StoredCertificate] = {}
        self._crls: dict[str, StoredCrl] = {}
        self.master_lists: list[MasterList] = []
        self.load_errors: list[str] = []

    # -- building ----------------------------------------------------------------

    @classmethod
    def from_certificates(
        cls,
        certificates: Iterable[bytes | Certificate] = (),
        crls: Iterable[bytes | Crl] = (),
        *,
        provenance: str = "memory",
    ) -> CscaStore:
        store = cls()
        for cert in certificates:
            if isinstance(cert, Certificate):
                store.add_certificate(cert, provenance)
            else:
                store.add_certificates(cert, provenance)
        for crl in crls:
            store.add_crl(crl, provenance)
        return store

    @classmethod
    def from_reference_store(cls, reference: ReferenceStoreLike) -> CscaStore:
        """Load kinds "csca", "dsc", "crl" and "masterlist". An item that no longer
        decodes or verifies is skipped and listed in `load_errors`, so one bad row
        cannot take the lane down."""
        store = cls()
        for kind in (KIND_CSCA, KIND_DSC, KIND_CRL, KIND_MASTER_LIST):
            for item in reference.items(kind):
                try:
                    if kind == KIND_CRL:
                        store.add_crl(bytes(item.payload), str(item.provenance))
                    elif kind == KIND_MASTER_LIST:
                        # A list that arrived by sync must be signed by a signer that
                        # chains to a CSCA already trusted here, never only to one
                        # inside the list itself: the border database is not a
                        # trust root. (An operator's `egate trust import` was checked
                        # by the operator at import time.)
                        store.add_master_list(
                            bytes(item.payload),
                            str(item.provenance),
                            require_known_signer=str(item.provenance).startswith("border:"),
                            check_signer_validity=False,
                        )
                    else:
                        store.add_certificate(bytes(item.payload), str(item.provenance))
                except TrustError as exc:
                    store.load_errors.append(f"{kind} {item.key}: {exc}")
        return store

    def add_certificate(self, cert: bytes | Certificate, provenance: str) -> StoredCertificate:
        parsed = cert if isinstance(cert, Certificate) else parse_certificate(cert)
        existing = self._certs.get(parsed.sha256)
        if existing is not None:
            return existing
        stored = StoredCertificate(parsed, classify(parsed), provenance)
        self._certs[parsed.sha256] = stored
        return stored

    def add_certificates(self, data: bytes, provenance: str) -> list[StoredCertificate]:
        """Every certificate of a PEM file (one or more blocks) or of one DER certificate."""
        return [self.add_certificate(c, provenance) for c in load_certificates(data)]

    def add_crl(self, crl: bytes | Crl, provenance: str) -> StoredCrl:
        parsed = crl if isinstance(crl, Crl) else parse_crl(crl)
        existing = self._crls.get(parsed.sha256)
        if existing is not None:
            return existing
        stored = StoredCrl(parsed, provenance)
        self._crls[parsed.sha256] = stored
        return stored

    def add_master_list(
        self,
        raw: bytes,
        provenance: str,
        *,
        at: datetime | None = None,
        require_known_signer: bool = False,
        check_signer_validity: bool = True,
    ) -> MasterList:
        """Verify a master list and add its CSCA certificates (see masterlist.py)."""
        ml = verify_master_list(
            raw,
            self.anchors(),
            at or datetime.now(UTC),
            require_known_signer=require_known_signer,
            check_signer_validity=check_signer_validity,
        )
        label = f"{provenance}; master list signed by {ml.signer.subject}"
        for cert in ml.certificates:
            self.add_certificate(cert, label)
        self.master_lists.append(ml)
        return ml

    # -- queries -------------------------------------------------------------------

    def certificates(self) -> list[StoredCertificate]:
        return list(self._certs.values())

    def crls(self) -> list[StoredCrl]:
        return list(self._crls.values())

    def anchors(self) -> list[Certificate]:
        return [s.cert for s in self._certs.values() if s.role == "csca"]

    def ca_certificates_named(self, subject_key: str) -> list[StoredCertificate]:
        """CA certificates (anchors, link and other CA certificates) with that subject."""
        return [
            s
            for s in self._certs.values()
            if s.cert.is_ca and s.cert.subject_key == subject_key and s.role != "other"
        ]

    def document_signers(self) -> list[Certificate]:
        return [s.cert for s in self._certs.values() if s.role == "document_signer"]

    def crls_from(self, issuer_key: str) -> list[Crl]:
        return [s.crl for s in self._crls.values() if s.crl.issuer_key == issuer_key]

    def lookup(self, sha256: str) -> StoredCertificate | None:
        return self._certs.get(sha256)

    def __len__(self) -> int:
        return len(self._certs) + len(self._crls)

    def describe(self) -> list[dict[str, Any]]:
        """JSON-safe listing, for `egate trust list`."""
        out: list[dict[str, Any]] = []
        for s in sorted(self._certs.values(), key=lambda s: (s.cert.country or "", s.cert.subject)):
            entry = {"kind": s.role, **s.cert.describe(), "provenance": s.provenance}
            out.append(entry)
        for c in sorted(self._crls.values(), key=lambda c: c.crl.issuer):
            out.append({"kind": "crl", **c.crl.describe(), "provenance": c.provenance})
        return out


def reference_key(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()
