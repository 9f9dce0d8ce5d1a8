"""Reading trust files (certificates, CRLs, ICAO master lists) into a CscaStore and
into rows of the reference-data table, with provenance.

The local route obeys the store's one rule (kiosk/trust/store.py): a self-signed
CSCA is accepted only when a master list already trusted here vouches for it, and
a master list only when its signer chains to a provisioned anchor. The exception is
the first bootstrap of an installation (`bootstrap_anchor=True`, logged): the
operator provisions the CSCA itself, or the CSCA that signed a self-consistent
master list, after checking its fingerprint out of band.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from asn1crypto import pem

from kiosk.trust.certificates import (
    Certificate,
    load_certificates,
    parse_certificate,
    parse_crl,
)
from kiosk.trust.deviation_list import is_deviation_list
from kiosk.trust.errors import MalformedInputError, TrustError
from kiosk.trust.masterlist import ListRules, is_master_list, is_unsigned_master_list
from kiosk.trust.pkd_ldif import looks_like_ldif, read_pkd_ldif
from kiosk.trust.store import (
    KIND_ANCHOR,
    KIND_CRL,
    KIND_CSCA,
    KIND_DEVIATION_LIST,
    KIND_DSC,
    KIND_MASTER_LIST,
    CscaStore,
    classify,
    reference_key,
)

FileKind = Literal["certificate", "crl", "masterlist", "deviationlist", "ldif"]
log = logging.getLogger(__name__)


class UnvouchedAnchorError(TrustError):
    """A self-signed CSCA that nothing trusted here vouches for."""

    code = "unvouched_csca"


@dataclass(frozen=True)
class ReferenceRow:
    """One row for kiosk.store.reference.ReferenceStore.put(kind, key, payload, provenance)."""

    kind: str
    key: str
    payload: bytes
    provenance: str


@dataclass
class ImportReport:
    name: str
    kind: FileKind
    rows: list[ReferenceRow] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    master_list: dict[str, Any] | None = None
    deviation_list: dict[str, Any] | None = None
    provisioned: list[dict[str, Any]] = field(default_factory=list)  # bootstrap anchors

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.name, "kind": self.kind, "entries": self.entries}
        if self.master_list is not None:
            out["master_list"] = self.master_list
        if self.deviation_list is not None:
            out["deviation_list"] = self.deviation_list
        out["bootstrap_anchors"] = self.provisioned
        return out


def detect_kind(data: bytes) -> FileKind:
    """What a trust file holds; MalformedInputError when it is none of the three."""
    if pem.detect(data):
        return "crl" if b"-----BEGIN X509 CRL-----" in data else "certificate"
    if looks_like_ldif(data):
        return "ldif"
    try:
        parse_certificate(data)
        return "certificate"
    except MalformedInputError:
        pass
    try:
        parse_crl(data)
        return "crl"
    except MalformedInputError:
        pass
    if is_master_list(data):
        return "masterlist"
    if is_deviation_list(data):
        return "deviationlist"
    if is_unsigned_master_list(data):
        # Some apps ship the list's content alone; nothing vouches for it.
        raise MalformedInputError(
            "an unsigned CscaMasterList (a master list's content without its CMS "
            "signature): nothing vouches for its certificates; import the signed list"
        )
    raise MalformedInputError("not an X.509 certificate, a CRL or an ICAO CSCA master list")


def import_file(
    store: CscaStore,
    data: bytes,
    name: str,
    provenance: str,
    *,
    at: datetime,
    bootstrap_anchor: bool = False,
    log_bootstrap: bool = True,
    rules: ListRules | None = None,
) -> ImportReport:
    """Add one file's contents to `store` and return the rows to persist
    (`log_bootstrap=False`: anchors for one in-memory check, stored nowhere). Raises
    TrustError (MasterListError for a master list that does not verify,
    UnvouchedAnchorError for a self-signed CSCA nothing vouches for)."""
    kind = detect_kind(data)
    report = ImportReport(name, kind)
    if kind == "ldif":
        _import_ldif(store, data, report, provenance, at=at, rules=rules)
    elif kind == "certificate":
        for cert in load_certificates(data):
            known = store.lookup(cert.sha256)
            if classify(cert) == "csca" and (known is None or known.role != "csca"):
                if not bootstrap_anchor:
                    raise UnvouchedAnchorError(
                        f"{cert.subject} (sha256 {cert.sha256}) is a self-signed CSCA that "
                        "no trusted master list vouches for: import it in a master list "
                        "signed under a provisioned anchor, or provision it with "
                        "--bootstrap-anchor after checking its fingerprint out of band"
                    )
                _provision(store, report, cert, provenance, log_bootstrap)
                continue
            stored = store.add_certificate(cert, provenance)
            if stored.role in ("csca", "link", "cross"):
                row_kind = KIND_CSCA
            elif stored.role == "document_signer":
                row_kind = KIND_DSC
            else:
                raise TrustError(
                    f"{cert.subject} is neither a CSCA nor a document signer certificate"
                )
            report.rows.append(ReferenceRow(row_kind, cert.sha256, cert.der, provenance))
            report.entries.append({"role": stored.role, **cert.describe()})
    elif kind == "crl":
        crl = store.add_crl(data, provenance).crl
        report.rows.append(ReferenceRow(KIND_CRL, crl.sha256, crl.der, provenance))
        issuer_known = bool(store.ca_certificates_named(crl.issuer_key))
        report.entries.append({"role": "crl", **crl.describe(), "issuer_known": issuer_known})
    elif kind == "deviationlist":
        dl = store.add_deviation_list(data, at)
        report.rows.append(ReferenceRow(KIND_DEVIATION_LIST, reference_key(data), data, provenance))
        report.deviation_list = dl.describe()
    else:
        ml = store.add_master_list(
            data, provenance, at=at, require_known_signer=not bootstrap_anchor, rules=rules
        )
        label = f"{provenance}; master list {ml.sha256[:16]} signed by {ml.signer.subject}"
        if ml.signer_anchor == "list":  # the bootstrap: its own CSCA becomes the anchor
            _provision(store, report, ml.signer_csca, label, log_bootstrap)
        report.rows.append(ReferenceRow(KIND_MASTER_LIST, reference_key(data), data, provenance))
        for cert in ml.certificates:
            report.rows.append(ReferenceRow(KIND_CSCA, cert.sha256, cert.der, label))
        report.master_list = ml.describe()
        # Every certificate of the list, imported with its role or skipped with the
        # reason, in list order (issue 20: nothing dropped silently).
        report.entries = [e.describe() for e in ml.entries]
    return report


# Master lists first: they bring the CSCAs the DS certificates and CRLs chain to.
_LDIF_ORDER = {"masterlist": 0, "certificate": 1, "crl": 2, "deviationlist": 3}


def _import_ldif(
    store: CscaStore,
    data: bytes,
    report: ImportReport,
    provenance: str,
    *,
    at: datetime,
    rules: ListRules | None,
) -> None:
    """An ICAO PKD LDIF file: each object imported on its own under the same rules
    as a file (no bootstrap), or skipped with the reason; one bad entry among
    thousands does not block the rest, and every entry is in the report."""
    objects, skipped = read_pkd_ldif(data)
    for obj in sorted(objects, key=lambda o: _LDIF_ORDER[o.kind]):
        label = f"{provenance}; LDIF entry {obj.dn}"
        try:
            part = import_file(store, obj.der, obj.dn, label, at=at, rules=rules)
        except TrustError as exc:
            report.entries.append(
                {"dn": obj.dn, "kind": obj.kind, "status": "skipped", "reason": str(exc)}
            )
            continue
        report.rows.extend(part.rows)
        for entry in part.entries or [{}]:
            report.entries.append({"dn": obj.dn, "kind": part.kind, "status": "imported", **entry})
    for skip in skipped:
        report.entries.append({"dn": skip.dn, "status": "skipped", "reason": skip.reason})
    if not report.rows:  # nothing usable at all: an error, not an empty success
        first = next(e for e in report.entries if e["status"] == "skipped")
        raise MalformedInputError(
            f"no entry of the LDIF file could be imported ({len(report.entries)} entries); "
            f"{first['dn']}: {first['reason']}"
        )


def _provision(
    store: CscaStore, report: ImportReport, cert: Certificate, provenance: str, announce: bool
) -> None:
    label = f"{provenance}; bootstrap anchor"
    store.provision_anchor(cert, label)
    report.rows.append(ReferenceRow(KIND_ANCHOR, cert.sha256, cert.der, label))
    entry = {"role": "csca", "anchor": "provisioned", **cert.describe()}
    report.provisioned.append(entry)
    if report.kind == "certificate":
        report.entries.append(entry)
    if not announce:
        return
    # The one override of the known-signer rule: leave a trace wherever logs go.
    log.warning(
        "bootstrap trust anchor provisioned: %s sha256 %s (%s)", cert.subject, cert.sha256, label
    )
