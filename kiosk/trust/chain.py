"""Document signer -> CSCA certification path and revocation (ICAO 9303-12 5, 7).

Paths are built by name and confirmed by signature, because a CSCA keeps its
name across key rollover: the old root, the new root and the link certificate
between them all share one subject. Each path is then checked for validity (at
the check time and at the signing time), key usage, CA flags, country and CRLs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.trust import signatures
from kiosk.trust.certificates import Certificate, Crl
from kiosk.trust.errors import TrustError
from kiosk.trust.store import CscaStore

MAX_DEPTH = 4  # DS + up to three link certificates + root


def _signed_by(issuer: Certificate, cert: Certificate) -> bool:
    try:
        signatures.verify_signature(
            issuer.spki_der, cert.signature_algorithm_der, cert.tbs_der, cert.signature
        )
    except TrustError:
        return False
    return True


def build_paths(ds: Certificate, store: CscaStore) -> list[list[Certificate]]:
    """Every path [DS, (links...), root] whose signatures verify, shortest first."""
    paths: list[list[Certificate]] = []

    def extend(path: list[Certificate]) -> None:
        tip = path[-1]
        if len(path) > MAX_DEPTH:
            return
        seen = {c.sha256 for c in path}
        for stored in store.ca_certificates_named(tip.issuer_key, tip.aki):
            candidate = stored.cert
            if candidate.sha256 in seen or not _signed_by(candidate, tip):
                continue
            if stored.role == "csca":
                paths.append([*path, candidate])
            else:
                extend([*path, candidate])

    extend([ds])
    paths.sort(key=len)
    return paths


@dataclass
class RevocationResult:
    status: str  # "passed" | "failed" | "not_available"
    reason: str | None = None
    detail: str = ""
    crls: list[dict[str, Any]] = field(default_factory=list)


def _crl_signer(crl: Crl, issuer: Certificate, store: CscaStore) -> Certificate | None:
    """The key that signed the CRL: the path's CA first (proven by path building),
    then a trust anchor of that name (a CSCA after key rollover). A link or other CA
    certificate that chains to no anchor may not sign: it could issue a newer, empty
    CRL that hides a revocation."""
    candidates = [issuer] + [
        s.cert
        for s in store.ca_certificates_named(crl.issuer_key)
        if s.cert.sha256 != issuer.sha256 and s.role == "csca"
    ]
    for cert in candidates:
        if "crl_sign" not in cert.key_usage:
            continue
        try:
            signatures.verify_signature(
                cert.spki_der, crl.signature_algorithm_der, crl.tbs_der, crl.signature
            )
        except TrustError:
            continue
        return cert
    return None


def check_revocation(
    path: list[Certificate],
    store: CscaStore,
    at: datetime,
    *,
    require_crl: bool = False,
    accept_stale_crl: bool = False,
) -> RevocationResult:
    """Check every certificate below the root against its issuer's newest CRL whose
    signature verifies. Unverifiable CRLs are ignored (and reported)."""
    result = RevocationResult("passed")
    missing: list[str] = []
    for cert, issuer in itertools.pairwise(path):
        usable: list[Crl] = []
        for crl in store.crls_from(issuer.subject_key):
            if not crl.covers(cert):
                # Its issuingDistributionPoint scope leaves `cert` out: a newer CRL of
                # another partition must not hide the revocation in this one.
                result.crls.append({**crl.describe(), "status": "out_of_scope"})
                continue
            if _crl_signer(crl, issuer, store) is None:
                result.crls.append({**crl.describe(), "status": "bad_signature"})
                continue
            usable.append(crl)
        if not usable:
            missing.append(issuer.subject)
            continue
        newest = max(usable, key=lambda c: (c.this_update, c.number or 0))
        stale = newest.next_update is not None and newest.next_update < at
        result.crls.append({**newest.describe(), "status": "stale" if stale else "current"})
        if cert.serial in newest.revoked:
            return RevocationResult(
                "failed",
                "revoked",
                f"{cert.subject} (serial {cert.serial:x}) is revoked by the CRL of "
                f"{issuer.subject}",
                result.crls,
            )
        if stale and not accept_stale_crl:
            assert newest.next_update is not None
            return RevocationResult(
                "failed",
                "crl_expired",
                f"the newest CRL of {issuer.subject} expired {newest.next_update.isoformat()}",
                result.crls,
            )
    if missing:
        if require_crl:
            return RevocationResult(
                "failed", "crl_missing", f"no CRL from {', '.join(missing)}", result.crls
            )
        if len(missing) == len(path) - 1:
            result.status = "not_available"
        result.detail = f"no CRL from {', '.join(missing)}"
    else:
        result.detail = "not revoked"
    return result


@dataclass
class PathCheck:
    """Outcome of validating one path; `reason` is None when the path is valid."""

    path: list[Certificate]
    reason: str | None
    detail: str


def _validity_reason(
    cert: Certificate, role: str, at: datetime, signed: datetime | None
) -> str | None:
    if at > cert.not_after:
        return f"expired_{role}_certificate"
    if at < cert.not_before:
        return f"{role}_certificate_not_yet_valid"
    if signed is not None and not cert.valid_at(signed):
        return f"{role}_certificate_not_valid_at_signing_time"
    return None


def _path_length_violation(path: list[Certificate]) -> str | None:
    """basicConstraints pathLenConstraint (RFC 5280 4.2.1.9, 6.1.4 l-m), the anchor's
    included: at most that many non-self-issued CA certificates may follow. Link
    certificates are self-issued and do not count, so a CSCA's usual pathLen 0
    (ICAO 9303-12 7.1.1) admits links and forbids any subordinate CA."""
    remaining: int | None = path[-1].path_len
    for cert in reversed(path[1:-1]):
        if not cert.self_issued:
            if remaining is not None and remaining <= 0:
                return f"{cert.subject} is one CA more than the pathLenConstraint above it allows"
            if remaining is not None:
                remaining -= 1
        if cert.path_len is not None:
            remaining = cert.path_len if remaining is None else min(remaining, cert.path_len)
    return None


def validate_path(
    path: list[Certificate], at: datetime, signing_time: datetime | None
) -> PathCheck:
    """Profile and time checks on [DS, links..., root] (signatures already hold)."""
    ds, root = path[0], path[-1]
    for index, cert in enumerate(path):
        role = "ds" if index == 0 else "csca" if index == len(path) - 1 else "link"
        if cert.unknown_critical:
            return PathCheck(
                path,
                "unsupported_critical_extension",
                f"{cert.subject} has critical extensions {', '.join(cert.unknown_critical)}",
            )
        reason = _validity_reason(cert, role, at, signing_time)
        if reason is not None:
            return PathCheck(
                path,
                reason,
                f"{cert.subject} valid {cert.not_before.isoformat()} to "
                f"{cert.not_after.isoformat()}; checked at {at.isoformat()}"
                + (f", signed {signing_time.isoformat()}" if signing_time else ""),
            )
        if index == 0:
            if "digital_signature" not in cert.key_usage:
                return PathCheck(path, "bad_key_usage", f"{cert.subject} lacks digitalSignature")
        elif not cert.issues_certificates:
            return PathCheck(path, "bad_key_usage", f"{cert.subject} is not a CA with keyCertSign")
    too_long = _path_length_violation(path)
    if too_long is not None:
        return PathCheck(path, "path_length_exceeded", too_long)
    countries = {c.upper() for c in (ds.country, ds.issuer_country, root.country) if c}
    if len(countries) > 1:
        return PathCheck(
            path,
            "country_mismatch",
            f"DS country {ds.country}, issuer {ds.issuer_country}, CSCA {root.country}",
        )
    return PathCheck(path, None, f"chains to {root.subject} in {len(path) - 1} step(s)")
