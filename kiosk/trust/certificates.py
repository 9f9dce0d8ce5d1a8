"""X.509 certificates and CRLs decoded once into plain, typed records.

The verifier works on these records rather than on library objects, so a hostile
encoding fails here with MalformedInputError, and nothing later meets a lazy
decoding error halfway through a check.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import core, pem
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from devices.icao9303.asn1 import DECODE_ERRORS
from kiosk.trust.errors import MalformedInputError

# Extensions a CSCA, link, DS or master list signer certificate may mark critical
# (RFC 5280 and ICAO 9303-12 7.1.1); any other critical extension rejects the
# certificate, as RFC 5280 4.2 requires.
KNOWN_CRITICAL = frozenset(
    {
        "key_usage",
        "basic_constraints",
        "extended_key_usage",
        "subject_alt_name",
        "issuer_alt_name",
        "certificate_policies",
        "name_constraints",
        "policy_constraints",
        "private_key_usage_period",
        "crl_distribution_points",
        "2.23.136.1.1.6.1",  # ICAO nameChange
        "2.23.136.1.1.6.2",  # ICAO documentTypeList
    }
)


def _aware(value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise MalformedInputError(f"expected a time, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_SHORT = {
    "2.5.4.6": "C",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.5": "serialNumber",
}
_ESCAPED = '\\,+"<>;='


@dataclass(frozen=True)
class NameInfo:
    text: str  # RFC 4514-style, most specific first ("CN=DS 01,O=...,C=UT")
    key: str  # comparable form (RFC 5280 7.1)
    country: str | None  # the first C attribute


_T = TypeVar("_T")
_NAMES: dict[bytes, NameInfo] = {}
_NAMES_LIMIT = 8192  # distinct names held; a master list has a few hundred


def name_info(name: Any) -> NameInfo:
    """name_info of a Name, remembered by its DER: a self-signed certificate's issuer
    is its subject, and most certificates share their issuer's name."""
    return _remembered(_NAMES, _NAMES_LIMIT, name.dump(), lambda: _name_info(name))


def _remembered(cache: dict[bytes, _T], limit: int, key: bytes, make: Callable[[], _T]) -> _T:
    """cache[key], made once by make(); the cache is emptied when full (bounded memory
    against hostile input). A make() that raises leaves nothing behind."""
    known = cache.get(key)
    if known is None:
        known = make()
        if len(cache) >= limit:
            cache.clear()
        cache[key] = known
    return known


def _name_info(name: Any) -> NameInfo:
    """Text, comparable key and country of a Name, in one pass over its attributes.

    The key holds, per RDN, its attributes sorted, each value NFKC-normalised,
    case-folded and with runs of spaces collapsed (RFC 5280 7.1; a non-string value
    compares by its encoding). asn1crypto's `Name.hashable` does the same through
    LDAP stringprep tables at milliseconds a name, which made a 600-certificate
    master list take seconds (issue 20 item 6)."""
    parts: list[str] = []
    rdns: list[str] = []
    country: str | None = None
    for rdn in name.chosen:
        atvs: list[str] = []
        for atv in rdn:
            oid = str(atv["type"].dotted)
            value = atv["value"]
            text = value.native
            if isinstance(text, str):
                folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
                if oid == "2.5.4.6" and country is None and text:
                    country = text
            else:
                folded = "#" + value.dump().hex()
            atvs.append(f"{oid}={folded}")
            shown = str(text)
            for ch in _ESCAPED:
                shown = shown.replace(ch, "\\" + ch)
            parts.append(f"{_SHORT.get(oid, oid)}={shown}")
        rdns.append("+".join(sorted(atvs)))
    return NameInfo(",".join(reversed(parts)), "\x1e".join(rdns), country)


def name_string(name: Any) -> str:
    """RFC 4514-style text of a Name, most specific first ("CN=DS 01,O=...,C=UT")."""
    return name_info(name).text


def _general_names(names: Any) -> frozenset[str]:
    """GeneralNames as comparable text ("uniform_resource_identifier:http://...")."""
    return frozenset(
        f"{gn.name}:{gn.chosen.dump().hex() if gn.name == 'directory_name' else gn.native}"
        for gn in names
    )


def _distribution_points(cert: Any) -> frozenset[str]:
    points = cert.crl_distribution_points_value
    if points is None:
        return frozenset()
    out: set[str] = set()
    for dp in points:
        name = dp["distribution_point"]
        if name.name == "full_name":
            out |= _general_names(name.chosen)
    return frozenset(out)


def _check_signature_bits(value: Any) -> None:
    """A signature BIT STRING is whole octets: DER leaves no unused bits (X.690 11.2)."""
    contents = value.contents
    if not contents or contents[0] != 0:
        raise MalformedInputError("signature BIT STRING with unused bits")


@dataclass(frozen=True)
class Certificate:
    """The parts of an X.509 certificate that passive authentication needs."""

    der: bytes
    sha256: str
    subject: str  # human-readable
    issuer: str
    subject_key: str  # normalised name, for matching issuer to subject
    issuer_key: str
    serial: int
    not_before: datetime
    not_after: datetime
    is_ca: bool
    key_usage: frozenset[str]  # "digital_signature", "key_cert_sign", "crl_sign"...
    extended_key_usage: frozenset[str]  # dotted OIDs
    ski: bytes | None
    aki: bytes | None
    country: str | None  # subject C
    issuer_country: str | None
    spki_der: bytes
    tbs_der: bytes
    signature_algorithm_der: bytes
    signature: bytes
    unknown_critical: tuple[str, ...]
    path_len: int | None = None  # basicConstraints pathLenConstraint
    crl_distribution_points: frozenset[str] = frozenset()  # full names, "uri:http://..."
    has_basic_constraints: bool = True
    has_key_usage: bool = True

    @property
    def issues_certificates(self) -> bool:
        """Whether this certificate may sign certificates. RFC 5280 wants
        basicConstraints cA and, where keyUsage is present, keyCertSign. Link
        certificates in published master lists (Belgium, Cameroon, Italy, Portugal,
        Luxembourg in the German list) carry keyCertSign without basicConstraints;
        OpenSSL's default (non-strict) X509_check_ca takes keyUsage keyCertSign alone
        as a CA, and so does egate (docs/trust.md, "Tolerated encodings")."""
        if self.has_key_usage and "key_cert_sign" not in self.key_usage:
            return False
        if self.has_basic_constraints:
            return self.is_ca
        return "key_cert_sign" in self.key_usage

    @property
    def self_issued(self) -> bool:
        return self.subject_key == self.issuer_key

    def valid_at(self, when: datetime) -> bool:
        return self.not_before <= when <= self.not_after

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary."""
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": format(self.serial, "x"),
            "country": self.country,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "sha256": self.sha256,
        }


_PARSED: dict[bytes, Certificate] = {}
_PARSED_LIMIT = 4096


def parse_certificate(der: bytes) -> Certificate:
    """Decode one DER certificate; MalformedInputError on anything unusable.
    Each certificate is decoded once per process (issue 20 item 6): reloading the
    store meets a certificate in its row, in its master list and in the list being
    imported. The record is immutable; a refusal is not remembered."""
    der = bytes(der)
    return _remembered(_PARSED, _PARSED_LIMIT, der, lambda: _parse_certificate(der))


def forget_decoded() -> None:
    """Drop the remembered certificates and names (benchmarks: a cold process)."""
    _PARSED.clear()
    _NAMES.clear()


def _parse_certificate(der: bytes) -> Certificate:
    try:
        cert = asn1_x509.Certificate.load(bytes(der), strict=True)
        tbs = cert["tbs_certificate"]
        subject = name_info(cert.subject)
        issuer = name_info(cert.issuer)
        validity = tbs["validity"]
        bc = cert.basic_constraints_value
        ku = cert.key_usage_value
        eku = cert.extended_key_usage_value
        ski = cert.key_identifier
        aki_value = cert.authority_key_identifier
        ekus: set[str] = set()
        if eku is not None:
            ekus = {str(o.dotted) for o in eku}
        criticals = {str(c) for c in cert.critical_extensions}
        if tbs["signature"].dump() != cert["signature_algorithm"].dump():
            raise MalformedInputError("signature algorithm differs inside and outside the TBS")
        _check_signature_bits(cert["signature_value"])
        return Certificate(
            der=bytes(der),
            sha256=hashlib.sha256(der).hexdigest(),
            subject=subject.text,
            issuer=issuer.text,
            subject_key=subject.key,
            issuer_key=issuer.key,
            serial=int(cert.serial_number),
            not_before=_aware(validity["not_before"].native),
            not_after=_aware(validity["not_after"].native),
            is_ca=bool(bc is not None and bc["ca"].native),
            path_len=_path_len(bc),
            crl_distribution_points=_distribution_points(cert),
            key_usage=frozenset(str(k) for k in (ku.native if ku is not None else ())),
            extended_key_usage=frozenset(ekus),
            ski=bytes(ski) if ski is not None else None,
            aki=bytes(aki_value) if aki_value is not None else None,
            country=subject.country,
            issuer_country=issuer.country,
            spki_der=tbs["subject_public_key_info"].dump(),
            tbs_der=tbs.dump(),
            signature_algorithm_der=cert["signature_algorithm"].dump(),
            signature=bytes(cert["signature_value"].native),
            unknown_critical=tuple(sorted(criticals - KNOWN_CRITICAL)),
            has_basic_constraints=bc is not None,
            has_key_usage=ku is not None,
        )
    except MalformedInputError:
        raise
    except DECODE_ERRORS as exc:
        raise MalformedInputError(f"not a usable X.509 certificate: {exc}") from exc


def _path_len(bc: Any) -> int | None:
    if bc is None or not bc["ca"].native:
        return None
    value = bc["path_len_constraint"].native
    if value is None:
        return None
    if int(value) < 0:
        raise MalformedInputError(f"pathLenConstraint {value} is negative")
    return int(value)


def _pem_blocks(data: bytes, kind: str) -> list[bytes]:
    blocks: list[bytes] = []
    try:
        for type_name, _headers, der in pem.unarmor(data, multiple=True):
            if type_name == kind:
                blocks.append(bytes(der))
    except DECODE_ERRORS as exc:
        raise MalformedInputError(f"bad PEM: {exc}") from exc
    return blocks


def load_certificates(data: bytes) -> list[Certificate]:
    """Certificates from PEM (one or more blocks) or a single DER certificate."""
    if pem.detect(data):
        blocks = _pem_blocks(data, "CERTIFICATE")
        if not blocks:
            raise MalformedInputError("no CERTIFICATE block in the PEM file")
        return [parse_certificate(b) for b in blocks]
    return [parse_certificate(data)]


@dataclass(frozen=True)
class CrlScope:
    """The parts of an issuingDistributionPoint (RFC 5280 5.2.5) the kiosk honours."""

    names: frozenset[str]  # distributionPoint full names; empty: no partition by name
    only_user_certs: bool
    only_ca_certs: bool


def _crl_scope(crl: Any) -> CrlScope | None:
    """Decode issuingDistributionPoint. Parts that cannot be honoured reject the CRL
    rather than being ignored (an ignored scope lets a partial CRL pass as complete):
    indirect CRLs, reason partitions, attribute-certificate CRLs, relative names."""
    idp = crl.issuing_distribution_point_value
    if idp is None:
        return None
    if idp["indirect_crl"].native:
        raise MalformedInputError("indirect CRLs (issuingDistributionPoint) are not supported")
    if idp["only_contains_attribute_certs"].native:
        raise MalformedInputError("the CRL covers attribute certificates only")
    if not isinstance(idp["only_some_reasons"], core.Void):
        raise MalformedInputError("CRLs partitioned by reason (onlySomeReasons) are not supported")
    user = bool(idp["only_contains_user_certs"].native)
    ca = bool(idp["only_contains_ca_certs"].native)
    if user and ca:
        raise MalformedInputError("issuingDistributionPoint: only user and only CA certificates")
    names: frozenset[str] = frozenset()
    point = idp["distribution_point"]
    if not isinstance(point, core.Void):
        if point.name != "full_name":
            raise MalformedInputError("issuingDistributionPoint nameRelativeToCRLIssuer")
        names = _general_names(point.chosen)
    return CrlScope(names, user, ca)


@dataclass(frozen=True)
class Crl:
    """A certificate revocation list (RFC 5280 5, ICAO 9303-12 7.1.4)."""

    der: bytes
    sha256: str
    issuer: str
    issuer_key: str
    issuer_country: str | None
    this_update: datetime
    next_update: datetime | None
    revoked: frozenset[int]
    number: int | None
    aki: bytes | None
    tbs_der: bytes
    signature_algorithm_der: bytes
    signature: bytes
    scope: CrlScope | None = None  # issuingDistributionPoint, when present

    def covers(self, cert: Certificate) -> bool:
        """Whether this CRL's scope (RFC 5280 5.2.5, 6.3.3 b) includes `cert`: a
        partitioned CRL says nothing about certificates outside its partition."""
        scope = self.scope
        if scope is None:
            return True
        if scope.only_user_certs and cert.is_ca:
            return False
        if scope.only_ca_certs and not cert.is_ca:
            return False
        return not scope.names or bool(scope.names & cert.crl_distribution_points)

    def describe(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "this_update": self.this_update.isoformat(),
            "next_update": self.next_update.isoformat() if self.next_update else None,
            "number": self.number,
            "revoked": len(self.revoked),
            "sha256": self.sha256,
        }


def parse_crl(der: bytes) -> Crl:
    """Decode one DER CRL (PEM "X509 CRL" accepted); MalformedInputError otherwise."""
    if pem.detect(der):
        blocks = _pem_blocks(der, "X509 CRL")
        if len(blocks) != 1:
            raise MalformedInputError("expected exactly one X509 CRL block")
        der = blocks[0]
    try:
        crl = asn1_crl.CertificateList.load(bytes(der), strict=True)
        tbs = crl["tbs_cert_list"]
        issuer = name_info(crl.issuer)
        next_update = tbs["next_update"].native
        revoked: set[int] = set()
        for entry in tbs["revoked_certificates"]:
            revoked.add(int(entry["user_certificate"].native))
        number = crl.crl_number_value
        aki = crl.authority_key_identifier
        criticals = {str(c) for c in crl.critical_extensions}
        unknown = criticals - {"issuing_distribution_point", "delta_crl_indicator"}
        if unknown:
            raise MalformedInputError(f"CRL has unsupported critical extensions {sorted(unknown)}")
        if tbs["signature"].dump() != crl["signature_algorithm"].dump():
            raise MalformedInputError("CRL signature algorithm differs inside and outside")
        _check_signature_bits(crl["signature"])
        if "delta_crl_indicator" in criticals:
            raise MalformedInputError("delta CRLs are not supported")
        return Crl(
            der=bytes(der),
            sha256=hashlib.sha256(der).hexdigest(),
            issuer=issuer.text,
            issuer_key=issuer.key,
            issuer_country=issuer.country,
            this_update=_aware(tbs["this_update"].native),
            next_update=_aware(next_update) if next_update is not None else None,
            revoked=frozenset(revoked),
            number=int(number.native) if number is not None else None,
            aki=bytes(aki) if aki is not None else None,
            tbs_der=tbs.dump(),
            signature_algorithm_der=crl["signature_algorithm"].dump(),
            signature=bytes(crl["signature"].native),
            scope=_crl_scope(crl),
        )
    except MalformedInputError:
        raise
    except DECODE_ERRORS as exc:
        raise MalformedInputError(f"not a usable CRL: {exc}") from exc
