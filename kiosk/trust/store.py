"""CscaStore: the kiosk's trust anchors, link certificates, document signers and CRLs.

Trust model (docs/trust.md). One rule for every route into the store: a self-signed
CSCA certificate is a trust anchor only when

* it was **provisioned locally** (kind "csca_anchor": `egate trust import
  --bootstrap-anchor`, an explicit, logged decision of the operator at this kiosk;
  never a row that came from the border database), or
* it is **vouched for** by a master list whose signer chains to a provisioned anchor:
  an ICAO CSCA master list, or an administrator's list (`egate trust endorse`) signed
  with a certificate a provisioned anchor issued.

A CSCA link certificate is an intermediate that must chain to an anchor; a document
signer certificate from the store only spares reading it from EF.SOD and is chained
like any other; CRLs count only when a key of their CSCA signed them. Whatever else
arrives (a bare self-signed CSCA synced as kind "csca", a list its own CSCA vouches
for) is skipped and listed in `load_errors`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from kiosk.trust.certificates import (
    Certificate,
    Crl,
    load_certificates,
    parse_certificate,
    parse_crl,
)
from kiosk.trust.deviation_list import DeviationList, verify_deviation_list
from kiosk.trust.errors import TrustError
from kiosk.trust.masterlist import ListRules, MasterList, is_self_signed, verify_master_list

# Kinds in the reference-data table (kiosk/store/reference.py).
KIND_CSCA = "csca"
KIND_ANCHOR = "csca_anchor"  # provisioned locally; never accepted from the border
KIND_DSC = "dsc"
KIND_CRL = "crl"
KIND_MASTER_LIST = "masterlist"
KIND_DEVIATION_LIST = "deviation_list"  # imported locally; not accepted from the border

# csca: self-signed root; link: same name, another key's signature (key rollover);
# cross: issued under another name (renamed CSCA, cross certificate).
CertificateRole = Literal["csca", "link", "cross", "document_signer", "other"]


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
    provisioned: bool = False  # a locally provisioned anchor (may vouch for lists)


@dataclass(frozen=True)
class StoredCrl:
    crl: Crl
    provenance: str


def classify(cert: Certificate) -> CertificateRole:
    # A link with keyCertSign but basicConstraints cA=FALSE (several in the German
    # list) is kept and shown as a link; the path builder does not use it as an
    # issuer (RFC 5280 4.2.1.9, as openssl), see ca_certificates_named.
    if cert.issues_certificates or "key_cert_sign" in cert.key_usage:
        if is_self_signed(cert):
            return "csca" if cert.issues_certificates else "other"
        return "link" if cert.self_issued else "cross"
    if "digital_signature" in cert.key_usage:
        return "document_signer"
    return "other"


class CscaStore:
    """In-memory trust store, built from certificates and CRLs or from the local
    reference-data table. Adding the same object twice is harmless."""

    def __init__(self) -> None:
        self._certs: dict[str, StoredCertificate] = {}
        self._crls: dict[str, StoredCrl] = {}
        # Look-ups by name, so a chain step costs the same with 10 or 1,000+ CSCAs
        # in the store (issue 20 item 6): subject name key -> sha256s, CRL issuer
        # name key -> sha256s.
        self._by_subject: dict[str, list[str]] = {}
        self._crls_by_issuer: dict[str, list[str]] = {}
        # Document signers by (issuer name key, serial) and by SKI: EF.SOD names its
        # signer one of these two ways, and the PKD brings thousands of them.
        self._ds_by_issuer_serial: dict[tuple[str, int], list[str]] = {}
        self._ds_by_ski: dict[bytes, list[str]] = {}
        self.master_lists: list[MasterList] = []
        self.deviation_lists: list[DeviationList] = []
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
        """A store of exactly these certificates and CRLs; the caller vouches for
        them, so their self-signed CSCAs are provisioned anchors."""
        store = cls()
        for cert in certificates:
            if isinstance(cert, Certificate):
                store.add_certificate(cert, provenance, provisioned=True)
            else:
                store.add_certificates(cert, provenance, provisioned=True)
        for crl in crls:
            store.add_crl(crl, provenance)
        return store

    @classmethod
    def from_reference_store(cls, reference: ReferenceStoreLike) -> CscaStore:
        """Load the trust kinds of the local reference data under the one rule (module
        docstring): provisioned anchors first, then the master lists they vouch for,
        then link, DS certificates and CRLs. An item that does not decode, verify or
        qualify is skipped and listed in `load_errors`, so one bad row cannot take the
        lane down."""
        store = cls()
        links = list(reference.items(KIND_CSCA))
        for item in links:
            # Link certificates first: after a key rollover a list's signer chains to a
            # provisioned anchor through one. They are intermediates, never anchors;
            # the full pass below reports any problem with the row.
            with contextlib.suppress(TrustError):
                store._load_links(item)
        kinds = (KIND_ANCHOR, KIND_MASTER_LIST, KIND_CSCA, KIND_DSC, KIND_CRL, KIND_DEVIATION_LIST)
        for kind in kinds:
            for item in links if kind == KIND_CSCA else reference.items(kind):
                try:
                    store._load(kind, item)
                except TrustError as exc:
                    store.load_errors.append(f"{kind} {item.key}: {exc}")
        return store

    def _load(self, kind: str, item: ReferenceItemLike) -> None:
        payload, provenance = bytes(item.payload), str(item.provenance)
        from_border = provenance.startswith(BORDER_PROVENANCE)
        if from_border and kind in TRUST_KINDS_KEYED_BY_DIGEST:
            problem = key_problem(kind, item.key, payload)
            if problem is not None:
                raise TrustError(problem)
        if kind == KIND_ANCHOR:
            if from_border:
                raise TrustError("a trust anchor is provisioned locally, never synced")
            self.provision_anchor(payload, provenance)
        elif kind == KIND_MASTER_LIST:
            # Stored lists were checked at import or arrival; a signer certificate
            # that expired since does not withdraw the CSCAs it vouched for.
            self.add_master_list(payload, provenance, check_signer_validity=False)
        elif kind == KIND_CRL:
            self.add_crl(payload, provenance)
        elif kind == KIND_DEVIATION_LIST:
            if from_border:
                raise TrustError("deviation lists are imported locally, never synced")
            self.add_deviation_list(payload, datetime.now(UTC))
        else:
            if self.lookup(reference_key(payload)) is not None:
                return  # a DER certificate already in (from its master list): no re-parse
            for cert in load_certificates(payload):
                if self.lookup(cert.sha256) is not None:
                    continue  # already in, e.g. from its master list: classified there
                if classify(cert) == "csca":
                    hint = (
                        ""
                        if from_border
                        else (
                            "; if it is to be an anchor, provision it with "
                            "`egate trust import --bootstrap-anchor`"
                        )
                    )
                    raise TrustError(
                        f"{cert.subject} (sha256 {cert.sha256}) is a self-signed CSCA "
                        f"that no provisioned anchor's master list vouches for{hint}"
                    )
                self.add_certificate(cert, provenance)

    def _load_links(self, item: ReferenceItemLike) -> None:
        payload, provenance = bytes(item.payload), str(item.provenance)
        if key_problem(KIND_CSCA, item.key, payload) is not None and provenance.startswith(
            BORDER_PROVENANCE
        ):
            return
        for cert in load_certificates(payload):
            if cert.aki is not None and cert.aki == cert.ski:
                continue  # names its own key: a root, not a link; spare the signature
            if classify(cert) in ("link", "cross"):
                self.add_certificate(cert, provenance)

    def provision_anchor(self, data: bytes | Certificate, provenance: str) -> StoredCertificate:
        """Add a locally provisioned trust anchor (a self-signed CSCA)."""
        cert = data if isinstance(data, Certificate) else parse_certificate(data)
        if classify(cert) != "csca":
            raise TrustError(f"{cert.subject} is not a self-signed CA certificate")
        return self.add_certificate(cert, provenance, provisioned=True)

    def add_certificate(
        self,
        cert: bytes | Certificate,
        provenance: str,
        *,
        provisioned: bool = False,
        role: CertificateRole | None = None,
    ) -> StoredCertificate:
        """`role`: as already classified (a master list entry), sparing the check of
        a self-signature a second time."""
        parsed = cert if isinstance(cert, Certificate) else parse_certificate(cert)
        existing = self._certs.get(parsed.sha256)
        if existing is not None:
            if provisioned and not existing.provisioned and existing.role == "csca":
                existing = StoredCertificate(existing.cert, existing.role, provenance, True)
                self._certs[parsed.sha256] = existing
            return existing
        role = role or classify(parsed)
        stored = StoredCertificate(parsed, role, provenance, provisioned and role == "csca")
        self._certs[parsed.sha256] = stored
        self._by_subject.setdefault(parsed.subject_key, []).append(parsed.sha256)
        if role == "document_signer":
            key = (parsed.issuer_key, parsed.serial)
            self._ds_by_issuer_serial.setdefault(key, []).append(parsed.sha256)
            if parsed.ski is not None:
                self._ds_by_ski.setdefault(parsed.ski, []).append(parsed.sha256)
        return stored

    def add_certificates(
        self, data: bytes, provenance: str, *, provisioned: bool = False
    ) -> list[StoredCertificate]:
        """Every certificate of a PEM file (one or more blocks) or of one DER certificate."""
        return [
            self.add_certificate(c, provenance, provisioned=provisioned)
            for c in load_certificates(data)
        ]

    def add_crl(self, crl: bytes | Crl, provenance: str) -> StoredCrl:
        parsed = crl if isinstance(crl, Crl) else parse_crl(crl)
        existing = self._crls.get(parsed.sha256)
        if existing is not None:
            return existing
        stored = StoredCrl(parsed, provenance)
        self._crls[parsed.sha256] = stored
        self._crls_by_issuer.setdefault(parsed.issuer_key, []).append(parsed.sha256)
        return stored

    def add_master_list(
        self,
        raw: bytes,
        provenance: str,
        *,
        at: datetime | None = None,
        require_known_signer: bool = True,
        check_signer_validity: bool = True,
        rules: ListRules | None = None,
    ) -> MasterList:
        """Verify a master list and add the CSCA certificates it vouches for (see
        masterlist.py). Its signer must chain to a provisioned anchor unless
        `require_known_signer` is False (the logged first bootstrap only)."""
        rules = rules or ListRules()
        ml = verify_master_list(
            raw,
            self.anchors() if rules.vouched_may_sign_lists else self.provisioned_anchors(),
            at or datetime.now(UTC),
            require_known_signer=require_known_signer,
            check_signer_validity=check_signer_validity,
            rules=rules,
            intermediates=[s.cert for s in self._certs.values() if s.role == "link"],
        )
        label = f"{provenance}; master list signed by {ml.signer.subject}"
        for entry in ml.entries:
            if entry.role is not None and entry.cert is not None:
                self.add_certificate(entry.cert, label, role=STORE_ROLE[entry.role])
        self.master_lists.append(ml)
        return ml

    def add_deviation_list(self, raw: bytes, at: datetime) -> DeviationList:
        """Verify a deviation list (deviation_list.py) and keep it: its signer must
        chain, as of the list's signing time, to a CSCA this store trusts."""

        def chains(signer: Certificate, when: datetime) -> Certificate | None:
            from kiosk.trust.chain import build_paths, validate_path  # chain imports us

            for path in build_paths(signer, self):
                if validate_path(path, when, when).reason is None:
                    return path[-1]
            return None

        dl = verify_deviation_list(raw, chains, at)
        if all(known.sha256 != dl.sha256 for known in self.deviation_lists):
            self.deviation_lists.append(dl)
        return dl

    # -- queries -------------------------------------------------------------------

    def certificates(self) -> list[StoredCertificate]:
        return list(self._certs.values())

    def crls(self) -> list[StoredCrl]:
        return list(self._crls.values())

    def anchors(self) -> list[Certificate]:
        """Every trust anchor: provisioned, or vouched for by a verified list."""
        return [s.cert for s in self._certs.values() if s.role == "csca"]

    def provisioned_anchors(self) -> list[Certificate]:
        """The anchors provisioned locally: the only ones that may vouch for a list."""
        return [s.cert for s in self._certs.values() if s.provisioned]

    def ca_certificates_named(
        self, subject_key: str, key_identifier: bytes | None = None
    ) -> list[StoredCertificate]:
        """CA certificates (anchors, link and cross certificates) with that subject;
        those whose subject key identifier equals `key_identifier` (the AKI of the
        certificate they would have issued) first, so the first signature tried is
        usually the right one."""
        found = [
            s
            for s in (self._certs[h] for h in self._by_subject.get(subject_key, ()))
            if s.cert.issues_certificates and s.role != "other"
        ]
        if key_identifier is not None:
            found.sort(key=lambda s: s.cert.ski != key_identifier)
        return found

    def document_signers(self) -> list[Certificate]:
        return [s.cert for s in self._certs.values() if s.role == "document_signer"]

    def document_signers_named(
        self, *, issuer_key: str | None = None, serial: int | None = None, ski: bytes | None = None
    ) -> list[Certificate]:
        """The stored DS certificates with this issuer name key and serial, or with this
        subject key identifier: an index look-up, whatever the number stored."""
        if ski is not None:
            found = self._ds_by_ski.get(ski, [])
        elif issuer_key is not None and serial is not None:
            found = self._ds_by_issuer_serial.get((issuer_key, serial), [])
        else:
            found = []
        return [self._certs[h].cert for h in found]

    def crls_from(self, issuer_key: str) -> list[Crl]:
        return [self._crls[h].crl for h in self._crls_by_issuer.get(issuer_key, ())]

    def lookup(self, sha256: str) -> StoredCertificate | None:
        return self._certs.get(sha256)

    def __len__(self) -> int:
        return len(self._certs) + len(self._crls)

    def describe(self) -> list[dict[str, Any]]:
        """JSON-safe listing, for `egate trust list`."""
        out: list[dict[str, Any]] = []
        for s in sorted(self._certs.values(), key=lambda s: (s.cert.country or "", s.cert.subject)):
            entry = {"kind": s.role, **s.cert.describe(), "provenance": s.provenance}
            if s.role == "csca":
                entry["anchor"] = "provisioned" if s.provisioned else "vouched"
            out.append(entry)
        for c in sorted(self._crls.values(), key=lambda c: c.crl.issuer):
            out.append({"kind": "crl", **c.crl.describe(), "provenance": c.provenance})
        return out

    def by_country(self, at: datetime) -> dict[str, dict[str, Any]]:
        """Per country (subject C; "??" when absent): anchors, links, cross and DS
        certificates, and each CRL with whether it is fresh at `at` (its next update
        not yet passed), for `egate trust list`."""
        out: dict[str, dict[str, Any]] = {}

        def country(code: str | None) -> dict[str, Any]:
            key = (code or "??").upper()
            return out.setdefault(
                key,
                {"anchors": 0, "links": 0, "cross": 0, "document_signers": 0, "crls": []},
            )

        field = {"csca": "anchors", "link": "links", "cross": "cross"}
        for s in self._certs.values():
            name = field.get(s.role, "document_signers" if s.role == "document_signer" else "")
            if name:
                country(s.cert.country)[name] += 1
        for c in self._crls.values():
            next_update = c.crl.next_update
            fresh = next_update is not None and c.crl.this_update <= at <= next_update
            country(c.crl.issuer_country)["crls"].append(
                {
                    "issuer": c.crl.issuer,
                    "next_update": next_update.isoformat() if next_update else None,
                    "fresh": fresh,
                }
            )
        return dict(sorted(out.items()))


STORE_ROLE: dict[str, CertificateRole] = {
    "anchor_candidate": "csca",
    "link": "link",
    "cross": "cross",
}


def reference_key(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


BORDER_PROVENANCE = "border:"  # how kiosk.border.sync marks what it pulled
# Trust items are keyed by the SHA-256 of their payload, so a key names one content for
# good: a border item can add a certificate, CRL or list, never replace what an
# operator imported under the same key (kiosk.border.sync prefers the border's copy
# of a key it also holds locally once the border's is newer).
TRUST_KINDS_KEYED_BY_DIGEST = frozenset({KIND_CSCA, KIND_DSC, KIND_CRL, KIND_MASTER_LIST})
# Kinds the border may publish; anything else arriving by sync is refused.
BORDER_KINDS = frozenset({*TRUST_KINDS_KEYED_BY_DIGEST, "policy_pack", "watchlist", "carrier_key"})


def key_problem(kind: str, key: str, payload: bytes) -> str | None:
    """Why a reference item from the border must not be imported, or None: a kind the
    border may not publish (a trust anchor above all), or a trust item whose key is not
    the SHA-256 of its payload."""
    if kind not in BORDER_KINDS:
        return f"kind {kind!r} is never accepted from the border database"
    if kind in TRUST_KINDS_KEYED_BY_DIGEST and key != reference_key(payload):
        return f"{kind} key {key[:80]!r} is not the sha256 of its payload"
    return None
