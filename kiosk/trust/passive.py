"""Passive authentication (ICAO 9303-11 5.1, 9303-12): is this chip's data what the
issuing state signed?

1. EF.SOD decodes as SignedData over an LDSSecurityObject;
2. its signed attributes bind the signature to the content (contentType,
   messageDigest);
3. the signature verifies with the document signer (DS) certificate;
4. every data group the SOD lists is read (DG3 and DG4, behind extended access
   control, excepted) and hashes to the value in the SOD;
5. the DS certificate chains to a trusted CSCA, each certificate valid and unrevoked.

The verdict lists each check. It is "valid" only when all of them pass; anything
unexpected yields "invalid" with a reason code, never an exception.
"""

from __future__ import annotations

import copy
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from asn1crypto import x509 as asn1_x509

from devices.icao9303.asn1 import DECODE_ERRORS
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.sod import (
    SecurityObject,
    SignerInfo,
    SodError,
    certificate_matches,
    parse_sod,
)
from kiosk.ports import AuthenticityResult
from kiosk.trust import cms, signatures
from kiosk.trust.certificates import Certificate, name_info
from kiosk.trust.chain import (
    PathCheck,
    RevocationResult,
    build_paths,
    check_revocation,
    validate_path,
)
from kiosk.trust.deviation_list import (
    ACCEPT_WITH_NOTE,
    DEFAULT_DEVIATION_POLICY,
    DEVIATION_POLICIES,
    REFER,
    DeviationPolicy,
    DocumentFacts,
    listed_deviation,
)
from kiosk.trust.errors import MalformedInputError, TrustError, UnsupportedAlgorithmError
from kiosk.trust.store import CscaStore

Status = Literal["passed", "failed", "not_checked", "not_available"]
# Listed in EF.SOD but readable only after terminal authentication (ICAO 9303-11 7.1),
# which the kiosk does not perform: their absence is reported, not a failure.
EAC_PROTECTED_DGS = frozenset({3, 4})
_DG_KEY = re.compile(r"^DG([0-9]{1,2})$")

# Reason codes, most fundamental first: the verdict's `reason` is the first failure.
REASON_CODES = (
    "missing_sod",
    "malformed_sod",
    "unsupported_algorithm",
    "ds_certificate_not_found",
    "malformed_ds_certificate",
    "missing_signed_attributes",
    "content_type_mismatch",
    "message_digest_mismatch",
    "bad_signature",
    "hash_mismatch_dg<n>",
    "missing_dg<n>",
    "dg_not_listed_dg<n>",
    "no_data_groups",
    "unknown_csca",
    "unsupported_critical_extension",
    "expired_ds_certificate",
    "ds_certificate_not_yet_valid",
    "ds_certificate_not_valid_at_signing_time",
    "expired_link_certificate",
    "link_certificate_not_yet_valid",
    "link_certificate_not_valid_at_signing_time",
    "expired_csca_certificate",
    "csca_certificate_not_yet_valid",
    "csca_certificate_not_valid_at_signing_time",
    "bad_key_usage",
    "path_length_exceeded",
    "country_mismatch",
    "revoked",
    "crl_expired",
    "crl_missing",
    "verification_error",
)


def _rank(reason: str) -> int:
    generic = re.sub(r"dg[0-9]+$", "dg<n>", reason)
    return REASON_CODES.index(generic) if generic in REASON_CODES else len(REASON_CODES)


@dataclass
class Verdict:
    """The passive authentication result; `to_dict()` is the public JSON shape."""

    checked_at: datetime
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    document_signer: dict[str, Any] | None = None
    csca: dict[str, Any] | None = None
    sod: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    deviation: dict[str, Any] | None = None  # a deviation list names this document

    def __post_init__(self) -> None:
        for name in ("sod_signature", "signed_attributes", "ds_certificate_chain", "crl"):
            self.checks[name] = {"status": "not_checked", "detail": None}
        self.checks["dg_hashes"] = {"status": "not_checked", "algorithm": None}

    def fail(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    @property
    def valid(self) -> bool:
        if self.deviation is not None and self.deviation["action"] == ACCEPT_WITH_NOTE:
            return True  # every failure explained by a listed, acceptable deviation
        return (
            not self.reasons
            and all(
                self.checks[name]["status"] == "passed"
                for name in (
                    "sod_signature",
                    "signed_attributes",
                    "dg_hashes",
                    "ds_certificate_chain",
                )
            )
            and self.checks["crl"]["status"] in ("passed", "not_available")
        )

    @property
    def ordered_reasons(self) -> list[str]:
        """Failures, most fundamental first (the order of REASON_CODES)."""
        return sorted(self.reasons, key=_rank)

    @property
    def reason(self) -> str | None:
        if self.valid:
            return None
        return self.ordered_reasons[0] if self.reasons else "verification_error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": "valid" if self.valid else "invalid",
            "reason": self.reason,
            "reasons": self.ordered_reasons if not self.valid else [],
            "checked_at": self.checked_at.isoformat(),
            "checks": copy.deepcopy(self.checks),
            "document_signer": self.document_signer,
            "csca": self.csca,
            "sod": self.sod,
            "notes": list(self.notes),
            **({"deviation": self.deviation} if self.deviation is not None else {}),
        }


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _check_envelope(so: SecurityObject) -> None:
    """Unsigned CMS fields must still be consistent (RFC 5652 5.1, 5.3; ICAO 9303-10):
    an altered envelope is a malformed SOD, even where no signature covers it."""
    if len(so.signer_infos) != 1:
        raise SodError(f"{len(so.signer_infos)} SignerInfos; ICAO 9303-10 requires one")
    if so.signed_data_version != 3:
        raise SodError(f"SignedData version {so.signed_data_version}, expected 3")
    info = so.signer_info
    expected = 3 if info.subject_key_identifier is not None else 1
    if info.version != expected:
        raise SodError(f"SignerInfo version {info.version} does not fit its signer identifier")
    if info.digest_algorithm not in so.digest_algorithms:
        raise SodError(f"digestAlgorithms does not list the signer's {info.digest_algorithm}")


def _sod_summary(so: SecurityObject) -> dict[str, Any]:
    info = so.signer_info
    return {
        "lds_security_object_version": so.version,
        "lds_version": f"{so.lds_version[0]}.{so.lds_version[1]}" if so.lds_version else None,
        "unicode_version": so.unicode_version,
        "digest_algorithm": so.digest_algorithm,
        "signer_digest_algorithm": info.digest_algorithm,
        "signature_algorithm": info.signature_algorithm,
        "signing_time": info.signing_time.isoformat() if info.signing_time else None,
        "data_groups": sorted(so.dg_hashes),
        "certificates": len(so.certificates),
        "quirks": list(so.quirks),
    }


def _signer_summary(cert: Certificate, source: str) -> dict[str, Any]:
    return {
        **cert.describe(),
        "source": source,
        "key": signatures.public_key_description(cert.spki_der),
    }


def _issued(so: SecurityObject, files: Mapping[str, bytes], v: Verdict) -> date | None:
    """The document's issuance date for a deviation list's issuance period: DG12's
    date of issue when DG12 was read and its hash holds, else EF.SOD's signingTime
    (the document is signed when it is personalised)."""
    raw = files.get("DG12")
    if raw is not None and 12 in so.dg_hashes and "hash_mismatch_dg12" not in v.reasons:
        try:
            issued = DataGroup12.parse(raw).issue_date()
        except LdsError:
            issued = None
        if issued is not None:
            return issued
    signed = so.signer_info.signing_time
    return signed.date() if signed is not None else None


# The checks a listed deviation type may excuse, by the reason it explains.
_EXCUSED_CHECK = {"bad_signature": "sod_signature", "hash_mismatch_dg": "dg_hashes"}


def _only_explained_checks_failed(v: Verdict, found: dict[str, Any]) -> bool:
    """Every check passed but those whose failure the deviation explains: a check
    that was not run (a group not read, a chain not built) is never excused."""
    excused = {
        check
        for reason in found["explains"]
        for prefix, check in _EXCUSED_CHECK.items()
        if reason.startswith(prefix)
    }
    required = ("sod_signature", "signed_attributes", "dg_hashes", "ds_certificate_chain")
    return all(
        v.checks[name]["status"] == "passed" for name in required if name not in excused
    ) and v.checks["crl"]["status"] in ("passed", "not_available")


class PassiveVerifier:
    """Runs the checks for one document against a CscaStore. `deviation_policy`: what
    a failure that a trusted deviation list explains becomes (deviation_list.py)."""

    def __init__(
        self,
        store: CscaStore,
        *,
        require_crl: bool = False,
        accept_stale_crl: bool = False,
        deviation_policy: DeviationPolicy = DEFAULT_DEVIATION_POLICY,
    ) -> None:
        self.store = store
        self.require_crl = require_crl
        self.accept_stale_crl = accept_stale_crl
        if deviation_policy not in DEVIATION_POLICIES:
            raise ValueError(
                f"deviation policy {deviation_policy!r}: expected one of "
                f"{', '.join(DEVIATION_POLICIES)}"
            )
        self.deviation_policy = deviation_policy

    def verify(self, files: Mapping[str, bytes], at: datetime) -> Verdict:
        verdict = Verdict(checked_at=_aware(at))
        try:
            self._verify(files, verdict)
        except Exception as exc:  # the safety net: a verifier bug must refer, not crash
            verdict.fail("verification_error")
            verdict.notes.append(f"verification_error: {type(exc).__name__}: {exc}")
        return verdict

    def _verify(self, files: Mapping[str, bytes], v: Verdict) -> None:
        raw = files.get("EF.SOD")
        if raw is None:
            v.fail("missing_sod")
            v.notes.append("EF.SOD was not read")
            return
        try:
            so = parse_sod(raw)
            _check_envelope(so)
        except SodError as exc:
            v.fail("malformed_sod")
            v.notes.append(f"malformed_sod: {exc}")
            return
        v.sod = _sod_summary(so)
        v.notes.extend(so.notes)
        info = so.signer_info

        ds, source = self._document_signer(so, v)
        self._signed_attributes(so, v)
        if ds is not None:
            v.document_signer = _signer_summary(ds, source)
            self._signature(so, ds, v)
        self._dg_hashes(so, files, v)
        if ds is not None:
            self._chain(ds, info.signing_time, v)
            if not v.valid and self.store.deviation_lists:
                self._deviation(ds, so, files, v)

    def _deviation(
        self, ds: Certificate, so: SecurityObject, files: Mapping[str, bytes], v: Verdict
    ) -> None:
        """Name a listed deviation (ICAO 9303-12 deviation lists) on a failed verdict:
        it refers, or, under the policy "accept_listed", a failure that the deviation
        fully explains and that cannot hide a forgery is accepted with a note
        (deviation_list.listed_deviation; docs/trust.md, "Deviation lists")."""
        number = code = None
        raw = files.get("DG1")
        if raw is not None:
            try:
                mrz = DataGroup1.parse(raw).mrz
                number, code = mrz.document_number, mrz.document_code
            except LdsError:
                pass
        facts = DocumentFacts(ds.country, number, code, _issued(so, files, v), ds)
        found = listed_deviation(
            self.store.deviation_lists, facts, v.ordered_reasons, self.deviation_policy
        )
        if found is None:
            return
        if found["action"] == ACCEPT_WITH_NOTE and not _only_explained_checks_failed(v, found):
            found["action"] = REFER
        v.deviation = found
        who = f"document {number}" if number else "this document"
        outcome = (
            f"accepted with a note (policy {self.deviation_policy}): "
            f"{', '.join(found['explains'])} explained"
            if found["action"] == ACCEPT_WITH_NOTE
            else "refer to an officer"
        )
        v.notes.append(
            f"{who} is on the {found['country']} deviation list "
            f"({', '.join(found['types'])}; matched by {', '.join(found['matched_by'])}): "
            f"{outcome}"
        )

    def _document_signer(self, so: SecurityObject, v: Verdict) -> tuple[Certificate | None, str]:
        info = so.signer_info
        cert, notes = cms.find_signer_certificate(info, so.certificates)
        v.notes.extend(notes)
        if cert is not None:
            return cert, "sod"
        if notes:
            v.fail("malformed_ds_certificate")
            v.checks["sod_signature"].update(status="failed", detail=notes[0])
            return None, ""
        for stored in self._stored_signers(info):
            if certificate_matches(stored.der, info):
                return stored, "trust_store"
        v.fail("ds_certificate_not_found")
        detail = f"no DS certificate with {cms.signer_reference(info)} in EF.SOD or the store"
        v.checks["sod_signature"].update(status="failed", detail=detail)
        v.checks["ds_certificate_chain"].update(status="failed", detail=detail)
        return None, ""

    def _stored_signers(self, info: SignerInfo) -> list[Certificate]:
        """The stored DS certificates EF.SOD's signer identifier may name, by index
        (issue 20 item 6: the PKD brings thousands); certificate_matches decides."""
        if info.subject_key_identifier is not None:
            return self.store.document_signers_named(ski=info.subject_key_identifier)
        if info.issuer_der is None or info.serial_number is None:
            return []
        try:
            issuer_key = name_info(asn1_x509.Name.load(info.issuer_der)).key
        except DECODE_ERRORS:
            return []
        return self.store.document_signers_named(issuer_key=issuer_key, serial=info.serial_number)

    def _signed_attributes(self, so: SecurityObject, v: Verdict) -> None:
        result = cms.check_signed_attributes(so.signer_info, so.econtent_type, so.econtent)
        status: Status = "failed" if result.reasons else "passed"
        v.checks["signed_attributes"].update(status=status, detail=result.detail)
        for reason in result.reasons:
            v.fail(reason)

    def _signature(self, so: SecurityObject, ds: Certificate, v: Verdict) -> None:
        check = v.checks["sod_signature"]
        try:
            scheme = cms.verify_signer(so.signer_info, so.econtent, ds)
        except UnsupportedAlgorithmError as exc:
            check.update(status="failed", detail=str(exc))
            v.fail("unsupported_algorithm")
            return
        except MalformedInputError as exc:
            check.update(status="failed", detail=str(exc))
            v.fail("malformed_ds_certificate")
            return
        except TrustError as exc:
            check.update(status="failed", detail=str(exc))
            v.fail("bad_signature")
            return
        check.update(
            status="passed", detail="verified with the DS certificate", algorithm=scheme.label
        )

    def _dg_hashes(self, so: SecurityObject, files: Mapping[str, bytes], v: Verdict) -> None:
        check = v.checks["dg_hashes"]
        check["algorithm"] = so.digest_algorithm
        try:
            signatures.digest_name(so.digest_algorithm)
        except UnsupportedAlgorithmError as exc:
            check.update(status="failed", detail=str(exc))
            v.fail("unsupported_algorithm")
            return
        read: dict[int, bytes] = {}
        for name, content in files.items():
            match = _DG_KEY.match(name)
            if match is None:
                continue
            number = int(match.group(1))
            if not 1 <= number <= 16:
                v.notes.append(f"ignored {name}: no such data group")
                continue
            read[number] = bytes(content)
        failed = False
        for number in sorted(set(read) | set(so.dg_hashes)):
            key = f"DG{number}"
            if number not in read and number in EAC_PROTECTED_DGS:
                check[key] = "not_read"
            elif number not in read:
                # EF.SOD, not the unsigned EF.COM, says what the chip holds: a listed
                # data group withheld (DG14/DG15 by a clone) fails the document.
                check[key] = "missing"
                v.fail(f"missing_dg{number}")
                failed = True
            elif number not in so.dg_hashes:
                check[key] = "not_listed"
                v.fail(f"dg_not_listed_dg{number}")
                failed = True
            elif hmac.compare_digest(
                signatures.digest(so.digest_algorithm, read[number]), so.dg_hashes[number]
            ):
                check[key] = "passed"
            else:
                check[key] = "mismatch"
                v.fail(f"hash_mismatch_dg{number}")
                failed = True
        if not read:
            check["status"] = "failed"
            v.fail("no_data_groups")
            v.notes.append("no data group was read")
        else:
            check["status"] = "failed" if failed else "passed"

    def _chain(self, ds: Certificate, signing_time: datetime | None, v: Verdict) -> None:
        chain = v.checks["ds_certificate_chain"]
        paths = build_paths(ds, self.store)
        if not paths:
            named = self.store.ca_certificates_named(ds.issuer_key)
            detail = (
                f"no trusted CSCA key verifies the DS certificate issued by {ds.issuer}"
                if named
                else f"no trusted CSCA named {ds.issuer}"
            )
            chain.update(status="failed", detail=detail, path=[])
            v.fail("unknown_csca")
            return
        checks = [validate_path(p, v.checked_at, signing_time) for p in paths]
        best: PathCheck = next((c for c in checks if c.reason is None), checks[0])
        root = best.path[-1]
        stored_root = self.store.lookup(root.sha256)
        v.csca = {
            **root.describe(),
            "provenance": stored_root.provenance if stored_root else None,
            "key": signatures.public_key_description(root.spki_der),
        }
        chain.update(
            status="passed" if best.reason is None else "failed",
            detail=best.detail,
            path=[
                {"subject": c.subject, "serial": format(c.serial, "x"), "sha256": c.sha256}
                for c in best.path
            ],
        )
        if best.reason is not None:
            v.fail(best.reason)
        revocation: RevocationResult = check_revocation(
            best.path,
            self.store,
            v.checked_at,
            require_crl=self.require_crl,
            accept_stale_crl=self.accept_stale_crl,
        )
        v.checks["crl"].update(
            status=revocation.status, detail=revocation.detail, crls=revocation.crls
        )
        if revocation.reason is not None:
            v.fail(revocation.reason)


class PassiveAuthenticator:
    """kiosk.ports.DocumentAuthenticator backed by a CscaStore."""

    def __init__(
        self,
        store: CscaStore,
        *,
        require_crl: bool = False,
        accept_stale_crl: bool = False,
        deviation_policy: DeviationPolicy = DEFAULT_DEVIATION_POLICY,
    ) -> None:
        self.verifier = PassiveVerifier(
            store,
            require_crl=require_crl,
            accept_stale_crl=accept_stale_crl,
            deviation_policy=deviation_policy,
        )

    @property
    def store(self) -> CscaStore:
        return self.verifier.store

    def verify(self, files: Mapping[str, bytes], at: datetime) -> Verdict:
        return self.verifier.verify(files, at)

    def authenticate(self, files: Mapping[str, bytes], at: datetime) -> AuthenticityResult:
        verdict = self.verifier.verify(files, at)
        return AuthenticityResult(verdict.valid, verdict.reason, verdict.to_dict())
