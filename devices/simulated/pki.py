"""Test PKI for the simulators, following the ICAO 9303-12 certificate profiles.

Builds a Country Signing CA (CSCA), document signer (DS) certificates, CSCA link
certificates (key rollover), CRLs and CSCA master lists signed by a master list
signer. Nothing here is a trust decision: the kiosk's verifier lives in
kiosk/trust. Keys are cached per process because RSA key generation dominates
test time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import ecdsa
from asn1crypto import algos, cms, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from devices.icao9303.asn1 import HASH_ALGORITHMS
from devices.icao9303.masterlist_schema import (
    ID_ICAO_CSCA_MASTER_LIST,
    ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY,
    CscaMasterList,
)
from devices.icao9303.sod import ID_LDS_SECURITY_OBJECT, SodError, build_lds_security_object, wrap

Algorithm = Literal[
    "rsa2048",
    "rsa-pss",
    "ecdsa-p256",
    "ecdsa-brainpoolP256r1",
    "ecdsa-brainpoolP256r1-explicit",
]
ALGORITHMS: tuple[str, ...] = (
    "rsa2048",
    "rsa-pss",
    "ecdsa-p256",
    "ecdsa-brainpoolP256r1",
    "ecdsa-brainpoolP256r1-explicit",
)
SignatureScheme = Literal["rsa-pkcs1v15", "rsa-pss", "ecdsa"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey



class PkiError(ValueError):
    """A request the test PKI cannot satisfy (unknown algorithm, mismatched key...)."""


CertHash = hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def certificate_hash(name: str) -> CertHash:
    """Hash for X.509 objects; SHA-1 is refused for new certificates and CRLs."""
    h = hash_algorithm(name)
    if not isinstance(h, hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512):
        raise PkiError(f"{name} is not accepted for certificates and CRLs")
    return h


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    try:
        return HASH_ALGORITHMS[name]()
    except KeyError:
        raise PkiError(f"unsupported digest {name!r} (have {sorted(HASH_ALGORITHMS)})") from None


# --- keys -------------------------------------------------------------------

_key_cache: dict[tuple[str, str], PrivateKey] = {}
_key_lock = threading.Lock()


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh private key for `algorithm` (one of ALGORITHMS)."""
    if algorithm in ("rsa2048", "rsa-pss"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm in ("ecdsa-brainpoolP256r1", "ecdsa-brainpoolP256r1-explicit"):
        return ec.generate_private_key(ec.BrainpoolP256R1())
    raise PkiError(f"unknown algorithm {algorithm!r} (have {', '.join(ALGORITHMS)})")


def cached_key(algorithm: str, label: str) -> PrivateKey:
    """The process-wide key for (`algorithm`, `label`), generated on first use."""
    family = "rsa" if algorithm in ("rsa2048", "rsa-pss") else algorithm.replace("-explicit", "")
    with _key_lock:
        key = _key_cache.get((family, label))
        if key is None:
            key = generate_key(algorithm)
            _key_cache[(family, label)] = key
        return key


def default_scheme(key: PrivateKey, algorithm: str | None = None) -> SignatureScheme:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ecdsa"
    return "rsa-pss" if algorithm == "rsa-pss" else "rsa-pkcs1v15"


def sign(key: PrivateKey, data: bytes, digest: str, scheme: SignatureScheme) -> bytes:
    """Sign `data`: RSA PKCS#1 v1.5, RSASSA-PSS (MGF1 with the same hash, salt = hash
    length, as ICAO 9303-12 recommends) or ECDSA (X9.62 DER signature)."""
    h = hash_algorithm(digest)
    if scheme == "ecdsa":
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError("ECDSA needs an EC key")
        return key.sign(data, ec.ECDSA(h))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError(f"{scheme} needs an RSA key")
    if scheme == "rsa-pss":
        return key.sign(data, padding.PSS(padding.MGF1(h), h.digest_size), h)
    return key.sign(data, padding.PKCS1v15(), h)


def signature_algorithm_identifier(
    key: PrivateKey, digest: str, scheme: SignatureScheme
) -> algos.SignedDigestAlgorithm:
    """The AlgorithmIdentifier that names a signature made by `sign`."""
    if scheme == "ecdsa":
        return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
    if scheme == "rsa-pss":
        size = hash_algorithm(digest).digest_size
        return algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": {
                    "hash_algorithm": {"algorithm": digest},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": digest},
                    },
                    "salt_length": size,
                    "trailer_field": 1,
                },
            }
        )
    return algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})


# --- names and certificates ---------------------------------------------------


# ISO 3166-1 alpha-3 (as in the MRZ; "D" is Germany's MRZ code) to the alpha-2
# code certificates carry, for the states the simulator and tests issue from.
# A code not listed (such as the specimen state UTO) keeps its first two letters.
ISO3166_ALPHA2 = {
    "AUS": "AU", "AUT": "AT", "BEL": "BE", "BRA": "BR", "CAN": "CA", "CHE": "CH",
    "CHN": "CN", "D": "DE", "DEU": "DE", "DNK": "DK", "ESP": "ES", "FIN": "FI",
    "FRA": "FR", "GBR": "GB", "GRC": "GR", "IDN": "ID", "IRL": "IE", "ITA": "IT",
    "JPN": "JP", "KOR": "KR", "MEX": "MX", "NLD": "NL", "NOR": "NO", "NZL": "NZ",
    "POL": "PL", "PRT": "PT", "RUS": "RU", "SGP": "SG", "SWE": "SE", "THA": "TH",
    "USA": "US",
}  # fmt: skip


def country_name(country: str, role: str, serial: int = 1) -> x509.Name:
    """Subject DN with the country (ICAO 9303-12: C is mandatory in CSCA/DS names).

    ICAO uses three-letter codes in the MRZ but two-letter ISO 3166 codes in
    certificates (ISO3166_ALPHA2); the three-letter code is kept in O.
    """
    c2 = ISO3166_ALPHA2.get(country.upper(), country[:2].upper())
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, c2),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{country} Passport Authority"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{role} {country} {serial:02d}"),
        ]
    )


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now


def _sign_builder(
    builder: x509.CertificateBuilder, key: PrivateKey, digest: str, scheme: SignatureScheme
) -> x509.Certificate:
    h = certificate_hash(digest)
    if scheme == "rsa-pss":
        return builder.sign(key, h, rsa_padding=padding.PSS(padding.MGF1(h), h.digest_size))
    return builder.sign(key, h)


def _ski(public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _public(key: PrivateKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    return key.public_key()


def make_csca_certificate(
    country: str,
    key: PrivateKey,
    *,
    now: datetime | None = None,
    valid_days: int = 365 * 15,
    serial: int = 1,
    subject: x509.Name | None = None,
    digest: str = "sha256",
    scheme: SignatureScheme | None = None,
) -> x509.Certificate:
    """Self-signed CSCA certificate: CA, keyCertSign + cRLSign (ICAO 9303-12 7.1.1)."""
    now = _utc(now)
    name = subject or country_name(country, "CSCA")
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(_public(key))
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(_public(key)), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(_public(key)), critical=False
        )
    )
    return _sign_builder(builder, key, digest, scheme or default_scheme(key))


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def make_ds_certificate(
    csca_cert: x509.Certificate,
    csca_key: PrivateKey,
    ds_public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    *,
    country: str | None = None,
    now: datetime | None = None,
    valid_days: int = 365 * 3,
    not_before: datetime | None = None,
    serial: int = 0x1001,
    subject: x509.Name | None = None,
    digest: str = "sha256",
    scheme: SignatureScheme | None = None,
    key_usage: x509.KeyUsage | None = None,
) -> x509.Certificate:
    """Document signer certificate issued by `csca_cert` (ICAO 9303-12 7.1.1):
    digitalSignature key usage (critical), authority key identifier of the CSCA."""
    now = _utc(now)
    start = _utc(not_before) if not_before is not None else now - timedelta(days=1)
    if country is None:
        country = _country_of(csca_cert)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or country_name(country, "DS", serial & 0xFF))
        .issuer_name(csca_cert.subject)
        .public_key(ds_public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=valid_days))
        .add_extension(key_usage or _signing_key_usage(), critical=True)
        .add_extension(_aki_of(csca_cert), critical=False)
        .add_extension(_ski(ds_public_key), critical=False)
    )
    return _sign_builder(builder, csca_key, digest, scheme or default_scheme(csca_key))


def _country_of(cert: x509.Certificate) -> str:
    for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode()
        return value.split(" ", 1)[0]
    return "UTO"


def _aki_of(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.public_key()  # type: ignore[arg-type]
        )


def make_link_certificate(
    old_csca_cert: x509.Certificate,
    old_csca_key: PrivateKey,
    new_csca_cert: x509.Certificate,
    *,
    now: datetime | None = None,
    valid_days: int = 365 * 10,
    serial: int = 0x2001,
    digest: str = "sha256",
    scheme: SignatureScheme | None = None,
) -> x509.Certificate:
    """CSCA link certificate: the new CSCA's subject and key, signed by the old key
    (ICAO 9303-12 5.5.2), so documents signed under either key chain to the old root."""
    now = _utc(now)
    new_public = new_csca_cert.public_key()
    if not isinstance(new_public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise PkiError("the new CSCA key must be RSA or EC")
    builder = (
        x509.CertificateBuilder()
        .subject_name(new_csca_cert.subject)
        .issuer_name(old_csca_cert.subject)
        .public_key(new_public)
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .add_extension(_ski(new_public), critical=False)
        .add_extension(_aki_of(old_csca_cert), critical=False)
    )
    return _sign_builder(builder, old_csca_key, digest, scheme or default_scheme(old_csca_key))


def make_master_list_signer(
    csca_cert: x509.Certificate,
    csca_key: PrivateKey,
    signer_public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    *,
    now: datetime | None = None,
    valid_days: int = 365 * 2,
    serial: int = 0x3001,
    digest: str = "sha256",
) -> x509.Certificate:
    """Master list signer: digitalSignature plus the ICAO extended key usage
    id-icao-cscaMasterListSigningKey (ICAO 9303-12 7.1.1)."""
    now = _utc(now)
    country = _country_of(csca_cert)
    builder = (
        x509.CertificateBuilder()
        .subject_name(country_name(country, "MLS", serial & 0xFF))
        .issuer_name(csca_cert.subject)
        .public_key(signer_public_key)
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(_signing_key_usage(), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(ID_ICAO_CSCA_MASTER_LIST_SIGNING_KEY)]),
            critical=True,
        )
        .add_extension(_aki_of(csca_cert), critical=False)
    )
    return _sign_builder(builder, csca_key, digest, default_scheme(csca_key))


def with_explicit_ec_parameters(
    cert: x509.Certificate, issuer_key: PrivateKey, *, scheme: SignatureScheme | None = None
) -> x509.Certificate:
    """Re-encode `cert`'s EC public key with explicit curve parameters (RFC 3279
    ECParameters, as several states do for brainpool keys) and re-sign it."""
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise PkiError("explicit parameters apply to EC keys only")
    curve = {"secp256r1": ecdsa.NIST256p, "brainpoolP256r1": ecdsa.BRAINPOOLP256r1}.get(
        public.curve.name
    )
    if curve is None:
        raise PkiError(f"no explicit parameters for curve {public.curve.name}")
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    vk = ecdsa.VerifyingKey.from_string(point, curve=curve)
    spki_der = vk.to_der(point_encoding="uncompressed", curve_parameters_encoding="explicit")
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    tbs["subject_public_key_info"] = keys.PublicKeyInfo.load(spki_der)
    tbs_der = tbs.dump(force=True)
    digest = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else "sha256"
    used = scheme or (
        "rsa-pss"
        if cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10"
        else default_scheme(issuer_key)
    )
    signature = sign(issuer_key, tbs_der, digest, used)
    rebuilt = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(rebuilt.dump())


# --- CRLs -------------------------------------------------------------------


def make_crl(
    csca_cert: x509.Certificate,
    csca_key: PrivateKey,
    revoked_serials: Iterable[int] = (),
    *,
    now: datetime | None = None,
    next_update_days: int = 30,
    this_update: datetime | None = None,
    number: int = 1,
    digest: str = "sha256",
    scheme: SignatureScheme | None = None,
) -> x509.CertificateRevocationList:
    """CSCA CRL (ICAO 9303-12 7.1.4): issuer = CSCA, AKI and CRL number, revoking
    the given certificate serial numbers. A negative `next_update_days` builds a
    stale CRL."""
    now = _utc(now)
    start = _utc(this_update) if this_update is not None else now - timedelta(hours=1)
    if next_update_days < 0 and this_update is None:
        start = now + timedelta(days=next_update_days - 1)  # stale: issued before it lapsed
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(csca_cert.subject)
        .last_update(start)
        .next_update(now + timedelta(days=next_update_days))
        .add_extension(_aki_of(csca_cert), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(start).build()
        )
    h = certificate_hash(digest)
    used = scheme or default_scheme(csca_key)
    if used == "rsa-pss":
        return builder.sign(csca_key, h, rsa_padding=padding.PSS(padding.MGF1(h), h.digest_size))
    return builder.sign(csca_key, h)


# --- master lists -------------------------------------------------------------


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def build_signed_data(
    econtent_type: str,
    econtent: bytes,
    signer_cert: x509.Certificate,
    signer_key: PrivateKey,
    *,
    digest: str = "sha256",
    scheme: SignatureScheme | None = None,
    certificates: Sequence[x509.Certificate] | None = None,
    signing_time: datetime | None = None,
    signer_identifier: Literal["issuer_serial", "ski"] = "issuer_serial",
    content_type_attribute: str | None = None,
    message_digest: bytes | None = None,
    signed_attributes: bool = True,
) -> bytes:
    """CMS SignedData (RFC 5652) over `econtent` with contentType and messageDigest
    signed attributes, encoded as a ContentInfo. The last keyword arguments exist to
    build deliberately defective objects for tests."""
    used = scheme or default_scheme(signer_key, _scheme_hint(signer_cert))
    digest_oid = algos.DigestAlgorithm({"algorithm": digest})
    md = message_digest if message_digest is not None else hashlib.new(digest, econtent).digest()
    attrs: list[dict[str, object]] = [
        {"type": "content_type", "values": [content_type_attribute or econtent_type]},
        {"type": "message_digest", "values": [md]},
    ]
    if signing_time is not None:
        when = cms.Time({"utc_time": _utc(signing_time)})
        attrs.append({"type": "signing_time", "values": [when]})
    parsed_signer = asn1_x509.Certificate.load(_der(signer_cert))
    if signer_identifier == "ski":
        ski = parsed_signer.key_identifier
        if ski is None:
            raise PkiError("the signer certificate has no subject key identifier")
        sid = cms.SignerIdentifier({"subject_key_identifier": ski})
        version = "v3"
    else:
        sid = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": parsed_signer.issuer,
                    "serial_number": parsed_signer.serial_number,
                }
            }
        )
        version = "v1"
    signer_info: dict[str, object] = {
        "version": version,
        "sid": sid,
        "digest_algorithm": digest_oid,
        "signature_algorithm": signature_algorithm_identifier(signer_key, digest, used),
    }
    if signed_attributes:
        signed = cms.CMSAttributes(attrs)
        encoded = signed.dump()
        signer_info["signed_attrs"] = cms.CMSAttributes.load(encoded)
        to_sign = encoded  # SET OF: the universal tag, as RFC 5652 5.4 requires
    else:
        to_sign = econtent
    signer_info["signature"] = sign(signer_key, to_sign, digest, used)
    certs = [signer_cert] if certificates is None else list(certificates)
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [digest_oid],
            "encap_content_info": {
                "content_type": econtent_type,
                "content": econtent,
            },
            "certificates": [asn1_x509.Certificate.load(_der(c)) for c in certs] or None,
            "signer_infos": [cms.SignerInfo(signer_info)],
        }
    )
    if not certs:
        del signed_data["certificates"]
    info: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return info


def _scheme_hint(cert: x509.Certificate) -> str | None:
    if cert.signature_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10":
        return "rsa-pss"
    return None


def make_master_list(
    certificates: Sequence[x509.Certificate],
    signer_cert: x509.Certificate,
    signer_key: PrivateKey,
    *,
    digest: str = "sha256",
    extra_certificates: Sequence[x509.Certificate] = (),
    signing_time: datetime | None = None,
) -> bytes:
    """An ICAO CSCA master list: CscaMasterList in CMS SignedData, eContentType
    id-icao-cscaMasterList, carrying the signer certificate (and optionally its CSCA)."""
    content = CscaMasterList(
        {
            "version": 0,
            "cert_list": [asn1_x509.Certificate.load(_der(c)) for c in certificates],
        }
    ).dump()
    return build_signed_data(
        ID_ICAO_CSCA_MASTER_LIST,
        content,
        signer_cert,
        signer_key,
        digest=digest,
        certificates=[signer_cert, *extra_certificates],
        signing_time=signing_time,
    )


def build_sod(
    dg_bytes: Mapping[int, bytes],
    ds_cert: x509.Certificate,
    ds_key: PrivateKey,
    *,
    digest: str = "sha256",
    signature: str | None = None,
    lds_version: tuple[int, int] | None = None,
    signing_time: datetime | None = None,
    include_certificate: bool = True,
    signer_identifier: Literal["issuer_serial", "ski"] = "issuer_serial",
    dg_digest: str | None = None,
    content_type: str = ID_LDS_SECURITY_OBJECT,
) -> bytes:
    """EF.SOD for `dg_bytes` ({1: DG1 bytes, 2: DG2 bytes, ...}) signed by the DS.

    signature: "rsa-pkcs1v15", "rsa-pss" or "ecdsa"; by default ECDSA for EC keys,
    RSASSA-PSS when the DS certificate itself is PSS-signed, else PKCS#1 v1.5.
    lds_version (e.g. (1, 8)) makes an LDSSecurityObject v1 with LDSVersionInfo.
    dg_digest hashes the data groups with another algorithm than the signature.
    content_type: the eContentType (and contentType attribute), e.g. one of
    SOD_CONTENT_TYPE_QUIRKS to imitate a field passport.
    """
    if signature is not None and signature not in ("rsa-pkcs1v15", "rsa-pss", "ecdsa"):
        raise SodError(f"unknown signature scheme {signature!r}")
    econtent = build_lds_security_object(
        dg_bytes, digest=dg_digest or digest, lds_version=lds_version
    )
    try:
        content_info = build_signed_data(
            content_type,
            econtent,
            ds_cert,
            ds_key,
            digest=digest,
            scheme=signature,  # type: ignore[arg-type]
            certificates=[ds_cert] if include_certificate else [],
            signing_time=signing_time,
            signer_identifier=signer_identifier,
        )
    except PkiError as exc:
        raise SodError(str(exc)) from exc
    return wrap(content_info)


# --- the bundle ---------------------------------------------------------------


@dataclass(frozen=True)
class TestPki:
    """A CSCA and one document signer for `country`."""

    __test__ = False  # not a pytest test class despite the name

    country: str
    algorithm: str
    csca_cert: x509.Certificate
    csca_key: PrivateKey
    ds_cert: x509.Certificate
    ds_key: PrivateKey
    signature: SignatureScheme  # scheme the DS uses for EF.SOD

    def csca_pem(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.PEM)

    def csca_der(self) -> bytes:
        return _der(self.csca_cert)

    def ds_pem(self) -> bytes:
        return self.ds_cert.public_bytes(serialization.Encoding.PEM)

    def ds_der(self) -> bytes:
        return _der(self.ds_cert)

    def crl(self, revoked_serials: Iterable[int] = (), **kwargs: object) -> bytes:
        """DER CRL of this CSCA; see make_crl for the keyword arguments."""
        crl = make_crl(self.csca_cert, self.csca_key, revoked_serials, **kwargs)  # type: ignore[arg-type]
        return crl.public_bytes(serialization.Encoding.DER)

    def new_document_signer(
        self,
        *,
        now: datetime | None = None,
        valid_days: int = 365 * 3,
        not_before: datetime | None = None,
        serial: int = 0x1002,
        key_usage: x509.KeyUsage | None = None,
        cache_keys: bool = True,
    ) -> tuple[x509.Certificate, PrivateKey]:
        """Another DS certificate under this CSCA (e.g. an expired or revoked one)."""
        key = (
            cached_key(self.algorithm, f"{self.country}/ds{serial}")
            if cache_keys
            else generate_key(self.algorithm)
        )
        cert = make_ds_certificate(
            self.csca_cert,
            self.csca_key,
            key.public_key(),
            country=self.country,
            now=now,
            valid_days=valid_days,
            not_before=not_before,
            serial=serial,
            scheme=_csca_scheme(self.algorithm),
            key_usage=key_usage,
        )
        if self.algorithm.endswith("-explicit"):
            cert = with_explicit_ec_parameters(cert, self.csca_key)
        return cert, key


def _csca_scheme(algorithm: str) -> SignatureScheme:
    if algorithm == "rsa-pss":
        return "rsa-pss"
    if algorithm == "rsa2048":
        return "rsa-pkcs1v15"
    return "ecdsa"


def make_test_pki(
    country: str = "UTO",
    *,
    algorithm: str = "rsa2048",
    now: datetime | None = None,
    ds_valid_days: int = 365 * 3,
    cache_keys: bool = True,
    csca_serial: int = 1,
    ds_serial: int = 0x1001,
) -> TestPki:
    """A CSCA plus a document signer for `country`, signing with `algorithm`.

    rsa2048 signs with PKCS#1 v1.5, rsa-pss with RSASSA-PSS, the ecdsa variants with
    ECDSA on the named curve; "-explicit" encodes the DS key with explicit curve
    parameters. Keys are cached per (algorithm family, country) unless
    cache_keys=False, so two calls with the same country share keys.
    """
    if algorithm not in ALGORITHMS:
        raise PkiError(f"unknown algorithm {algorithm!r} (have {', '.join(ALGORITHMS)})")
    if len(country) != 3 or not country.isalpha():
        raise PkiError(f"country {country!r} must be a three-letter code")
    now = _utc(now)
    if cache_keys:
        csca_key = cached_key(algorithm, f"{country}/csca{csca_serial}")
        ds_key = cached_key(algorithm, f"{country}/ds{ds_serial}")
    else:
        csca_key, ds_key = generate_key(algorithm), generate_key(algorithm)
    scheme = _csca_scheme(algorithm)
    csca = make_csca_certificate(
        country,
        csca_key,
        now=now,
        serial=csca_serial,
        scheme=scheme,
        subject=country_name(country, "CSCA", csca_serial),
    )
    ds = make_ds_certificate(
        csca,
        csca_key,
        ds_key.public_key(),
        country=country,
        now=now,
        valid_days=ds_valid_days,
        serial=ds_serial,
        scheme=scheme,
    )
    if algorithm.endswith("-explicit"):
        ds = with_explicit_ec_parameters(ds, csca_key)
    return TestPki(country, algorithm, csca, csca_key, ds, ds_key, scheme)
