"""Hostile inputs: whatever EF.SOD, certificate, CRL or master list arrives, the
verifier answers with a typed error or an "invalid" verdict, never a crash and
never "valid"."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devices.icao9303 import sod
from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator, TrustError, verify_master_list
from kiosk.trust.certificates import parse_certificate, parse_crl
from kiosk.trust.importer import detect_kind, import_file
from tests.trust.conftest import DGS, NOW, files_of

# EGATE_FUZZ_EXAMPLES raises the budget for a long local run (default 150 per test).
FUZZ = settings(
    max_examples=int(os.environ.get("EGATE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_PKI = pki.make_test_pki("UTO", algorithm="ecdsa-brainpoolP256r1", now=NOW)
_RSA = pki.make_test_pki("UTO", algorithm="rsa-pss", now=NOW)
_SODS = {
    "ecdsa": pki.build_sod(DGS, _PKI.ds_cert, _PKI.ds_key, lds_version=(1, 8), signing_time=NOW),
    "pss": pki.build_sod(DGS, _RSA.ds_cert, _RSA.ds_key, signing_time=NOW),
}
_AUTH = {
    "ecdsa": PassiveAuthenticator(CscaStore.from_certificates([_PKI.csca_der()])),
    "pss": PassiveAuthenticator(CscaStore.from_certificates([_RSA.csca_der()])),
}


def _mutate(raw: bytes, data: st.DataObject) -> bytes:
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        i = data.draw(st.integers(0, len(buf) - 1))
        if kind == "flip":
            buf[i] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "set":
            buf[i] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del buf[i:]
        elif kind == "insert":
            buf[i:i] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del buf[i : i + data.draw(st.integers(1, 8))]
        if not buf:
            break
    return bytes(buf)


def _assert_never_valid(key: str, raw: bytes) -> None:
    verdict = _AUTH[key].verify(files_of(raw), NOW).to_dict()
    if raw != _SODS[key]:
        assert verdict["verdict"] == "invalid", "a mutated EF.SOD was accepted"
        assert verdict["reason"], verdict
    assert verdict["reason"] != "verification_error", verdict["notes"]


def test_the_unmutated_documents_are_valid() -> None:
    for key, raw in _SODS.items():
        assert _AUTH[key].verify(files_of(raw), NOW).valid


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_as_sod(raw: bytes) -> None:
    _assert_never_valid("ecdsa", raw)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_in_the_0x77_wrapper(body: bytes) -> None:
    _assert_never_valid("pss", sod.wrap(b"\x30" + bytes([min(len(body), 127)]) + body))


@FUZZ
@given(st.data(), st.sampled_from(sorted(_SODS)))
def test_mutated_sod_is_never_valid(data: st.DataObject, key: str) -> None:
    _assert_never_valid(key, _mutate(_SODS[key], data))


@FUZZ
@given(st.data())
def test_mutated_certificates_raise_typed_errors(data: st.DataObject) -> None:
    der = data.draw(st.sampled_from([_PKI.csca_der(), _RSA.ds_der(), _PKI.ds_der()]))
    mutated = _mutate(der, data)
    try:
        cert = parse_certificate(mutated)
    except TrustError:
        return
    store = CscaStore()
    try:
        store.add_certificate(cert, "fuzz")
    except TrustError:
        return
    assert cert.der == mutated


@FUZZ
@given(st.data())
def test_mutated_anchor_never_validates(data: st.DataObject) -> None:
    mutated = _mutate(_PKI.csca_der(), data)
    if mutated == _PKI.csca_der():
        return  # two flips of one bit
    try:
        store = CscaStore.from_certificates([mutated])
    except TrustError:
        return
    verdict = PassiveAuthenticator(store).verify(files_of(_SODS["ecdsa"]), NOW)
    assert not verdict.valid
    assert verdict.reason != "verification_error", verdict.notes


@FUZZ
@given(st.data())
def test_mutated_crl_raises_typed_errors(data: st.DataObject) -> None:
    mutated = _mutate(_RSA.crl([0x1001], now=NOW), data)
    try:
        crl = parse_crl(mutated)
    except TrustError:
        return
    store = CscaStore.from_certificates([_RSA.csca_der()], [crl])
    verdict = PassiveAuthenticator(store).verify(files_of(_SODS["pss"]), NOW)
    # the genuine CRL revokes the DS; a mutated one must not silently un-revoke it
    assert not verdict.valid or verdict.checks["crl"]["status"] == "not_available"
    assert verdict.reason != "verification_error"


_ML_KEY = pki.cached_key("rsa2048", "fuzz/mls")
_ML = pki.make_master_list(
    [_PKI.csca_cert],
    pki.make_master_list_signer(_RSA.csca_cert, _RSA.csca_key, _ML_KEY.public_key(), now=NOW),
    _ML_KEY,
    extra_certificates=[_RSA.csca_cert],
)


@FUZZ
@given(st.data())
def test_mutated_master_list_raises_typed_errors(data: st.DataObject) -> None:
    mutated = _mutate(_ML, data)
    try:
        ml = verify_master_list(mutated, [], NOW)
    except TrustError:
        return
    # accepted only if the signed content is intact
    assert [c.der for c in ml.certificates] == [_PKI.csca_der()]


@FUZZ
@given(st.binary(max_size=400))
@example(b"version:")  # LDIF by its first line (issue 20 item 3)
@example(b"dn: cn=x\nuserCertificate;binary:: AAAA\n")
@example(b"# comment\ndn cn=x no colon\n")
def test_detect_kind_on_garbage(raw: bytes) -> None:
    try:
        kind = detect_kind(raw)
    except TrustError:
        return
    assert kind in ("certificate", "crl", "masterlist", "deviationlist", "ldif")
    if kind == "ldif":  # detected by its first line; reading it refuses garbage cleanly
        with pytest.raises(TrustError):
            import_file(CscaStore(), raw, "fuzz.ldif", "fuzz", at=NOW)


def test_now_is_timezone_aware() -> None:
    assert NOW.tzinfo is UTC and datetime.now(UTC) > NOW


_WRONG_KEY = pki.cached_key("ecdsa-brainpoolP256r1", "fuzz/intruder")


@FUZZ
@given(
    digest=st.sampled_from(["sha1", "sha224", "sha256", "sha384", "sha512"]),
    dg_digest=st.sampled_from(["sha1", "sha256", "sha512"]),
    good_content_type=st.booleans(),
    good_digest=st.booleans(),
    signed_attributes=st.booleans(),
    right_key=st.booleans(),
    with_certificate=st.booleans(),
    ski=st.booleans(),
    tampered=st.sets(st.sampled_from(sorted(DGS))),
    signing_offset_days=st.integers(-5, 5),
)
def test_structured_defects_decide_the_verdict(
    digest: str,
    dg_digest: str,
    good_content_type: bool,
    good_digest: bool,
    signed_attributes: bool,
    right_key: bool,
    with_certificate: bool,
    ski: bool,
    tampered: set[int],
    signing_offset_days: int,
) -> None:
    """Valid exactly when no defect was chosen; otherwise the matching reason leads."""
    import hashlib
    from datetime import timedelta

    econtent = sod.build_lds_security_object(DGS, digest=dg_digest)
    md = hashlib.new(digest, econtent).digest()
    signing_time = NOW + timedelta(days=signing_offset_days)
    info = pki.build_signed_data(
        sod.ID_LDS_SECURITY_OBJECT,
        econtent,
        _PKI.ds_cert,
        _PKI.ds_key if right_key else _WRONG_KEY,
        digest=digest,
        certificates=[_PKI.ds_cert] if with_certificate else [],
        signing_time=signing_time,
        signer_identifier="ski" if ski else "issuer_serial",
        content_type_attribute=None if good_content_type else "1.2.840.113549.1.7.1",
        message_digest=md if good_digest else bytes(len(md)),
        signed_attributes=signed_attributes,
    )
    dgs = {n: (b + b"!" if n in tampered else b) for n, b in DGS.items()}
    verdict = _AUTH["ecdsa"].verify(files_of(sod.wrap(info), dgs), NOW).to_dict()
    in_validity = signing_offset_days >= -1  # the DS became valid one day before NOW
    expected = []
    if not with_certificate:
        expected.append("ds_certificate_not_found")
    if not signed_attributes:
        expected.append("missing_signed_attributes")
    else:
        if not good_content_type:
            expected.append("content_type_mismatch")
        if not good_digest:
            expected.append("message_digest_mismatch")
    if with_certificate and not right_key:
        expected.append("bad_signature")
    expected.extend(f"hash_mismatch_dg{n}" for n in sorted(tampered))
    if with_certificate and signed_attributes and not in_validity:  # time is an attribute
        expected.append("ds_certificate_not_valid_at_signing_time")
    assert verdict["reasons"] == expected
    assert (verdict["verdict"] == "valid") == (not expected)
