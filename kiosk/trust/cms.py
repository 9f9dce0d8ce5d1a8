"""Checks on one CMS SignerInfo (RFC 5652 5.3-5.6), shared by EF.SOD and master lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.icao9303.sod import (
    SignedData,
    SignerInfo,
    SodError,
    certificate_matches,
    parse_signed_data,
)
from kiosk.trust import signatures
from kiosk.trust.certificates import Certificate, parse_certificate
from kiosk.trust.errors import MalformedInputError, TrustError, UnsupportedAlgorithmError


@dataclass(frozen=True)
class AttributeCheck:
    """Outcome of the signed-attribute checks: no reasons when they pass."""

    reasons: tuple[str, ...]
    detail: str

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


def check_signed_attributes(
    info: SignerInfo, econtent_type: str, econtent: bytes
) -> AttributeCheck:
    """ICAO 9303-10 requires signed attributes: exactly one contentType equal to the
    eContentType, and exactly one messageDigest equal to the hash of the eContent.
    Both are checked, so the verdict names every broken binding."""
    if info.signed_attrs_der is None:
        return AttributeCheck(
            ("missing_signed_attributes",), "the SignerInfo has no signed attributes"
        )
    reasons: list[str] = []
    details: list[str] = []
    if len(info.content_types) != 1:
        reasons.append("content_type_mismatch")
        details.append(f"{len(info.content_types)} contentType attributes")
    elif info.content_types[0] != econtent_type:
        reasons.append("content_type_mismatch")
        details.append(
            f"contentType {info.content_types[0]} differs from eContentType {econtent_type}"
        )
    if len(info.message_digests) != 1:
        reasons.append("message_digest_mismatch")
        details.append(f"{len(info.message_digests)} messageDigest attributes")
    else:
        try:
            expected = signatures.digest(info.digest_algorithm, econtent)
        except UnsupportedAlgorithmError as exc:
            reasons.append("unsupported_algorithm")
            details.append(str(exc))
        else:
            if info.message_digests[0] != expected:
                reasons.append("message_digest_mismatch")
                details.append(
                    f"messageDigest does not match the {info.digest_algorithm} of the eContent"
                )
    if reasons:
        return AttributeCheck(tuple(reasons), "; ".join(details))
    return AttributeCheck((), f"contentType and messageDigest ({info.digest_algorithm}) match")


def signed_bytes(info: SignerInfo, econtent: bytes) -> bytes:
    """What the signature covers: the DER SET OF signed attributes, else the content."""
    return info.signed_attrs_der if info.signed_attrs_der is not None else econtent


def verify_signer(
    info: SignerInfo, econtent: bytes, cert: Certificate
) -> signatures.SignatureScheme:
    """Verify the SignerInfo's signature with `cert`; raises a TrustError subclass."""
    return signatures.verify_signature(
        cert.spki_der,
        info.signature_algorithm_der,
        signed_bytes(info, econtent),
        info.signature,
        digest_hint=info.digest_algorithm,
    )


def find_signer_certificate(
    info: SignerInfo, candidates: Sequence[bytes]
) -> tuple[Certificate | None, list[str]]:
    """The first candidate certificate the SignerInfo's sid names, with notes on
    candidates that could not be decoded."""
    notes: list[str] = []
    for der in candidates:
        if not certificate_matches(der, info):
            continue
        try:
            return parse_certificate(der), notes
        except MalformedInputError as exc:
            notes.append(str(exc))
    return None, notes


def signer_reference(info: SignerInfo) -> str:
    if info.subject_key_identifier is not None:
        return f"subjectKeyIdentifier {info.subject_key_identifier.hex()}"
    return f"serial {format(info.serial_number or 0, 'x')}"


@dataclass(frozen=True)
class SignedList:
    """A single-signer ICAO list (CSCA master list, deviation list) whose signature held."""

    signed: SignedData
    info: SignerInfo
    signer: Certificate
    scheme: signatures.SignatureScheme


def verify_single_signer_list(
    raw: bytes, content_type: str, kind: str, error: Callable[[str, str], Exception]
) -> SignedList:
    """Decode a signed list of `content_type` and verify its one SignerInfo with the signer
    certificate the list carries (ICAO 9303-12: one signer per list). Failures raise
    `error(code, message)` with the codes malformed_KIND, unknown_KIND_signer,
    bad_KIND_signature, or the signed-attribute check's own code. What the signer may sign
    (key usage, chain) is the caller's rule."""
    try:
        signed = parse_signed_data(raw, content_type)
    except SodError as exc:
        raise error(f"malformed_{kind}", str(exc)) from exc
    if len(signed.signer_infos) != 1:
        raise error(f"malformed_{kind}", f"{len(signed.signer_infos)} SignerInfos, expected one")
    info = signed.signer_infos[0]
    signer, _notes = find_signer_certificate(info, signed.certificates)
    if signer is None:
        raise error(
            f"unknown_{kind}_signer",
            f"the signer certificate ({signer_reference(info)}) is not in the list",
        )
    attrs = check_signed_attributes(info, signed.econtent_type, signed.econtent)
    if attrs.reason is not None:
        raise error(attrs.reason, attrs.detail)
    try:
        scheme = verify_signer(info, signed.econtent, signer)
    except TrustError as exc:
        raise error(f"bad_{kind}_signature", str(exc)) from exc
    return SignedList(signed, info, signer, scheme)
