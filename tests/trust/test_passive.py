"""Passive authentication verdicts, one defect at a time (ICAO 9303-11 5.1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509

from devices.icao9303 import sod
from devices.simulated import pki
from kiosk.ports import AuthenticityResult, DocumentAuthenticator
from kiosk.trust import CscaStore, PassiveAuthenticator
from tests.trust.conftest import DGS, NOW, document, files_of, verify

MakePki = Callable[..., pki.TestPki]


@pytest.mark.parametrize("algorithm", pki.ALGORITHMS)
def test_genuine_document_is_valid_for_every_algorithm(make_pki: MakePki, algorithm: str) -> None:
    p = make_pki(algorithm)
    verdict = verify(document(p), [p.csca_der()], [p.crl()])
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert verdict["reason"] is None
    checks = verdict["checks"]
    for name in ("sod_signature", "signed_attributes", "dg_hashes", "ds_certificate_chain", "crl"):
        assert checks[name]["status"] == "passed", name
    assert checks["dg_hashes"]["DG1"] == "passed"
    assert verdict["document_signer"]["serial"] == "1001"
    assert verdict["document_signer"]["country"] == "UT"
    assert (
        verdict["csca"]["sha256"] == verdict["checks"]["ds_certificate_chain"]["path"][-1]["sha256"]
    )


def test_signature_algorithm_reported(make_pki: MakePki) -> None:
    pss = verify(document(make_pki("rsa-pss")), [make_pki("rsa-pss").csca_der()])
    assert pss["checks"]["sod_signature"]["algorithm"] == "rsassa-pss/sha256/mgf1-sha256/salt32"
    bp = make_pki("ecdsa-brainpoolP256r1-explicit")
    explicit = verify(document(bp), [bp.csca_der()])
    assert explicit["document_signer"]["key"].startswith("ec-explicit")
    assert explicit["verdict"] == "valid"


@pytest.mark.parametrize("digest", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_every_sha_digest(make_pki: MakePki, digest: str) -> None:
    for algorithm in ("rsa-pss", "ecdsa-p256"):
        p = make_pki(algorithm)
        verdict = verify(document(p, digest=digest), [p.csca_der()])
        assert verdict["verdict"] == "valid", (algorithm, verdict["reasons"])
        assert verdict["checks"]["dg_hashes"]["algorithm"] == digest


def test_lds_v1_and_v0(rsa_pki: pki.TestPki) -> None:
    v1 = verify(document(rsa_pki, lds_version=(1, 8)), [rsa_pki.csca_der()])
    assert v1["sod"]["lds_security_object_version"] == 1
    assert v1["sod"]["lds_version"] == "1.8"
    v0 = verify(document(rsa_pki), [rsa_pki.csca_der()])
    assert v0["sod"]["lds_security_object_version"] == 0
    assert v0["sod"]["lds_version"] is None
    assert v1["verdict"] == v0["verdict"] == "valid"


def test_tampered_dg1_fails_with_its_number(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki)
    files["DG1"] = files["DG1"].replace(b"ANNA", b"ANNE")
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["verdict"] == "invalid"
    assert verdict["reason"] == "hash_mismatch_dg1"
    assert verdict["checks"]["dg_hashes"]["DG1"] == "mismatch"
    assert verdict["checks"]["dg_hashes"]["DG2"] == "passed"
    assert verdict["checks"]["sod_signature"]["status"] == "passed"


def test_tampered_dg2_reports_dg2(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki)
    files["DG2"] = files["DG2"] + b"\x00"
    assert verify(files, [rsa_pki.csca_der()])["reason"] == "hash_mismatch_dg2"


def test_listed_but_not_read_fails(rsa_pki: pki.TestPki) -> None:
    # EF.SOD, not EF.COM, says what the chip holds (issue 10 item 1).
    files = document(rsa_pki)
    del files["DG14"]
    verdict = verify(files, [rsa_pki.csca_der()])
    assert (verdict["verdict"], verdict["reason"]) == ("invalid", "missing_dg14")
    assert verdict["checks"]["dg_hashes"]["DG14"] == "missing"


def test_listed_eac_data_groups_may_stay_unread(rsa_pki: pki.TestPki) -> None:
    dgs = {**DGS, 3: b"\x63\x02fp", 4: b"\x76\x02ir"}
    files = document(rsa_pki, dgs)
    del files["DG3"], files["DG4"]  # terminal authentication is not performed
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["verdict"] == "valid"
    hashes = verdict["checks"]["dg_hashes"]
    assert hashes["DG3"] == hashes["DG4"] == "not_read"


@pytest.mark.parametrize("tail", [b"\x00", b"\x00\x00", b"\xff", b"\x01\x02"])
def test_trailing_bytes_after_sod_are_malformed(rsa_pki: pki.TestPki, tail: bytes) -> None:
    files = document(rsa_pki)
    files["EF.SOD"] += tail
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["reason"] == "malformed_sod"
    assert "unexpected bytes after the 0x77 object" in verdict["notes"][0]


def test_read_but_not_listed_fails(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki)
    files["DG11"] = b"\x6b\x03abc"
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["reason"] == "dg_not_listed_dg11"
    assert verdict["checks"]["dg_hashes"]["DG11"] == "not_listed"


def test_signed_with_the_wrong_key(rsa_pki: pki.TestPki) -> None:
    other = pki.cached_key("rsa2048", "intruder")
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, other, signing_time=NOW)
    verdict = verify(files_of(raw), [rsa_pki.csca_der()])
    assert verdict["reason"] == "bad_signature"
    assert verdict["checks"]["sod_signature"]["status"] == "failed"
    assert verdict["checks"]["dg_hashes"]["status"] == "passed"


def test_ecdsa_signature_from_the_wrong_key(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-brainpoolP256r1")
    other = pki.cached_key("ecdsa-brainpoolP256r1", "intruder")
    raw = pki.build_sod(DGS, p.ds_cert, other)
    assert verify(files_of(raw), [p.csca_der()])["reason"] == "bad_signature"
    q = make_pki("ecdsa-brainpoolP256r1-explicit")
    raw = pki.build_sod(DGS, q.ds_cert, other)
    assert verify(files_of(raw), [q.csca_der()])["reason"] == "bad_signature"


def test_unknown_csca(make_pki: MakePki) -> None:
    home, foreign = make_pki("rsa2048", "UTO"), make_pki("rsa2048", "ZZZ")
    verdict = verify(document(foreign), [home.csca_der()])
    assert verdict["reason"] == "unknown_csca"
    assert verdict["checks"]["ds_certificate_chain"]["status"] == "failed"
    assert verdict["checks"]["sod_signature"]["status"] == "passed"
    assert verdict["csca"] is None


def test_empty_store_means_unknown_csca(rsa_pki: pki.TestPki) -> None:
    assert verify(document(rsa_pki), [])["reason"] == "unknown_csca"


def test_forged_csca_with_the_same_name(rsa_pki: pki.TestPki) -> None:
    """An attacker's CSCA copying the real name: the DS does not verify under the
    real key, so the chain fails even though a CSCA of that name is trusted."""
    forger = pki.make_test_pki("UTO", now=NOW, cache_keys=False)
    assert forger.csca_cert.subject == rsa_pki.csca_cert.subject
    verdict = verify(document(forger), [rsa_pki.csca_der()])
    assert verdict["reason"] == "unknown_csca"
    assert "no trusted CSCA key" in verdict["checks"]["ds_certificate_chain"]["detail"]


def test_expired_ds_certificate(rsa_pki: pki.TestPki) -> None:
    later = NOW + timedelta(days=365 * 3 + 2)
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], at=later)
    assert verdict["reason"] == "expired_ds_certificate"


def test_ds_not_yet_valid(rsa_pki: pki.TestPki) -> None:
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], at=NOW - timedelta(days=3))
    assert verdict["reason"] == "ds_certificate_not_yet_valid"


def test_signing_time_outside_ds_validity(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki, signing_time=NOW - timedelta(days=30))
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["reason"] == "ds_certificate_not_valid_at_signing_time"


def test_expired_csca(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-p256")
    cert, key = p.new_document_signer(now=NOW, valid_days=365 * 30, serial=0x1077)
    raw = pki.build_sod(DGS, cert, key)
    later = NOW + timedelta(days=365 * 16)
    assert verify(files_of(raw), [p.csca_der()], at=later)["reason"] == "expired_csca_certificate"


def test_revoked_ds_via_crl(rsa_pki: pki.TestPki) -> None:
    crl = rsa_pki.crl([rsa_pki.ds_cert.serial_number], now=NOW)
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], [crl])
    assert verdict["reason"] == "revoked"
    assert verdict["checks"]["crl"]["status"] == "failed"
    assert verdict["checks"]["ds_certificate_chain"]["status"] == "passed"


def test_crl_of_other_serials_passes(rsa_pki: pki.TestPki) -> None:
    crl = rsa_pki.crl([0x9999], now=NOW)
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], [crl])
    assert verdict["verdict"] == "valid"
    assert verdict["checks"]["crl"]["crls"][0]["status"] == "current"


def test_newest_crl_wins(rsa_pki: pki.TestPki) -> None:
    old = rsa_pki.crl([], now=NOW - timedelta(days=2), number=1)
    new = rsa_pki.crl([rsa_pki.ds_cert.serial_number], now=NOW, number=2)
    assert verify(document(rsa_pki), [rsa_pki.csca_der()], [old, new])["reason"] == "revoked"


def test_crl_signed_by_another_key_is_ignored(rsa_pki: pki.TestPki) -> None:
    forger = pki.make_test_pki("UTO", now=NOW, cache_keys=False)
    fake = forger.crl([rsa_pki.ds_cert.serial_number], now=NOW)
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], [fake])
    assert verdict["verdict"] == "valid"
    assert verdict["checks"]["crl"]["status"] == "not_available"
    assert verdict["checks"]["crl"]["crls"][0]["status"] == "bad_signature"


def test_stale_crl(rsa_pki: pki.TestPki) -> None:
    stale = rsa_pki.crl([], now=NOW, next_update_days=-1)
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], [stale])
    assert verdict["reason"] == "crl_expired"
    relaxed = verify(document(rsa_pki), [rsa_pki.csca_der()], [stale], accept_stale_crl=True)
    assert relaxed["verdict"] == "valid"


def test_require_crl(rsa_pki: pki.TestPki) -> None:
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], require_crl=True)
    assert verdict["reason"] == "crl_missing"
    assert verify(document(rsa_pki), [rsa_pki.csca_der()])["checks"]["crl"]["status"] == (
        "not_available"
    )


def _rollover(
    p: pki.TestPki,
) -> tuple[x509.Certificate, pki.PrivateKey, x509.Certificate, bytes]:
    """A new CSCA key with the same name, its link certificate, and a DS under it."""
    new_key = pki.cached_key(p.algorithm, f"{p.country}/csca-new")
    new_root = pki.make_csca_certificate(
        p.country, new_key, now=NOW, serial=2, subject=p.csca_cert.subject
    )
    link = pki.make_link_certificate(p.csca_cert, p.csca_key, new_root, now=NOW)
    ds_key = pki.cached_key(p.algorithm, f"{p.country}/ds-new")
    ds = pki.make_ds_certificate(new_root, new_key, ds_key.public_key(), now=NOW, serial=0x1500)
    return new_root, new_key, link, pki.build_sod(DGS, ds, ds_key)


def test_link_certificate_chain(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-p256")
    _new_root, _key, link, raw = _rollover(p)
    der = link.public_bytes(pki.serialization.Encoding.DER)
    verdict = verify(files_of(raw), [p.csca_der(), der])
    assert verdict["verdict"] == "valid", verdict["reasons"]
    path = verdict["checks"]["ds_certificate_chain"]["path"]
    assert len(path) == 3
    assert path[1]["serial"] == "2001"  # the link certificate
    assert verdict["csca"]["serial"] == "1"  # the old root is the anchor


def test_without_the_link_the_new_key_is_unknown(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-p256")
    _new_root, _key, _link, raw = _rollover(p)
    assert verify(files_of(raw), [p.csca_der()])["reason"] == "unknown_csca"


def test_revoked_link_certificate(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-p256")
    _new_root, _key, link, raw = _rollover(p)
    der = link.public_bytes(pki.serialization.Encoding.DER)
    crl = p.crl([link.serial_number], now=NOW)
    assert verify(files_of(raw), [p.csca_der(), der], [crl])["reason"] == "revoked"


def test_forged_link_certificate_does_not_chain(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-p256")
    new_root, _key, _link, raw = _rollover(p)
    forger = pki.generate_key("ecdsa-p256")
    fake_link = pki.make_link_certificate(p.csca_cert, forger, new_root, now=NOW)
    der = fake_link.public_bytes(pki.serialization.Encoding.DER)
    assert verify(files_of(raw), [p.csca_der(), der])["reason"] == "unknown_csca"


def test_ds_certificate_from_the_store(rsa_pki: pki.TestPki) -> None:
    raw = pki.build_sod(DGS, rsa_pki.ds_cert, rsa_pki.ds_key, include_certificate=False)
    assert verify(files_of(raw), [rsa_pki.csca_der()])["reason"] == "ds_certificate_not_found"
    verdict = verify(files_of(raw), [rsa_pki.csca_der(), rsa_pki.ds_der()])
    assert verdict["verdict"] == "valid"
    assert verdict["document_signer"]["source"] == "trust_store"


def test_subject_key_identifier_signer(make_pki: MakePki) -> None:
    p = make_pki("ecdsa-brainpoolP256r1")
    raw = pki.build_sod(DGS, p.ds_cert, p.ds_key, signer_identifier="ski")
    assert sod.parse_sod(raw).signer_info.subject_key_identifier is not None
    assert verify(files_of(raw), [p.csca_der()])["verdict"] == "valid"


def test_ds_without_digital_signature_key_usage(rsa_pki: pki.TestPki) -> None:
    usage = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
    cert, key = rsa_pki.new_document_signer(now=NOW, serial=0x1044, key_usage=usage)
    raw = pki.build_sod(DGS, cert, key)
    assert verify(files_of(raw), [rsa_pki.csca_der()])["reason"] == "bad_key_usage"


def test_country_mismatch(rsa_pki: pki.TestPki) -> None:
    key = pki.cached_key("rsa2048", "UTO/ds-foreign")
    cert = pki.make_ds_certificate(
        rsa_pki.csca_cert,
        rsa_pki.csca_key,
        key.public_key(),
        now=NOW,
        serial=0x1066,
        subject=pki.country_name("ZZZ", "DS"),
    )
    raw = pki.build_sod(DGS, cert, key)
    assert verify(files_of(raw), [rsa_pki.csca_der()])["reason"] == "country_mismatch"


def _signed_data(p: pki.TestPki, **kw: Any) -> bytes:
    econtent = sod.build_lds_security_object(DGS)
    info = pki.build_signed_data(sod.ID_LDS_SECURITY_OBJECT, econtent, p.ds_cert, p.ds_key, **kw)
    return sod.wrap(info)


def test_content_type_attribute_mismatch(rsa_pki: pki.TestPki) -> None:
    raw = _signed_data(rsa_pki, content_type_attribute="1.2.840.113549.1.7.1")
    verdict = verify(files_of(raw), [rsa_pki.csca_der()])
    assert verdict["reason"] == "content_type_mismatch"
    assert verdict["checks"]["signed_attributes"]["status"] == "failed"


def test_message_digest_mismatch(rsa_pki: pki.TestPki) -> None:
    raw = _signed_data(rsa_pki, message_digest=b"\x00" * 32)
    verdict = verify(files_of(raw), [rsa_pki.csca_der()])
    assert verdict["reason"] == "message_digest_mismatch"
    # the signature itself is genuine: only the binding to the content is broken
    assert verdict["checks"]["sod_signature"]["status"] == "passed"


def test_missing_signed_attributes(rsa_pki: pki.TestPki) -> None:
    raw = _signed_data(rsa_pki, signed_attributes=False)
    assert verify(files_of(raw), [rsa_pki.csca_der()])["reason"] == "missing_signed_attributes"


def test_missing_and_malformed_sod(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki)
    del files["EF.SOD"]
    assert verify(files, [rsa_pki.csca_der()])["reason"] == "missing_sod"
    files["EF.SOD"] = b"\x77\x03\x30\x01\x00"
    verdict = verify(files, [rsa_pki.csca_der()])
    assert verdict["reason"] == "malformed_sod"
    assert verdict["verdict"] == "invalid"


def test_sod_without_data_groups_read(rsa_pki: pki.TestPki) -> None:
    raw = document(rsa_pki)["EF.SOD"]
    verdict = verify({"EF.SOD": raw}, [rsa_pki.csca_der()])
    assert verdict["reason"] == "missing_dg1"
    assert "no_data_groups" in verdict["reasons"]


def test_authenticator_satisfies_the_kiosk_port(rsa_pki: pki.TestPki) -> None:
    authenticator: DocumentAuthenticator = PassiveAuthenticator(
        CscaStore.from_certificates([rsa_pki.csca_pem()])
    )
    result = authenticator.authenticate(document(rsa_pki), NOW)
    assert isinstance(result, AuthenticityResult)
    assert result.valid and result.reason is None
    files = document(rsa_pki)
    files["DG2"] = b"x"
    bad = authenticator.authenticate(files, NOW)
    assert not bad.valid and bad.reason == "hash_mismatch_dg2"
    assert bad.detail["reasons"] == ["hash_mismatch_dg2"]


def test_naive_check_time_is_taken_as_utc(rsa_pki: pki.TestPki) -> None:
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()], at=NOW.replace(tzinfo=None))
    assert verdict["verdict"] == "valid"
    assert verdict["checked_at"].endswith("+00:00")
