"""The document factory: a correctly signed LDS, and every defect doing what it says."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg2 import DataGroup2
from devices.icao9303.lds.dg11 import DataGroup11
from devices.icao9303.lds.dg12 import DataGroup12
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.ef_com import EfCom
from devices.icao9303.lds.security_infos import SecurityInfos
from devices.icao9303.mrz import MrzError
from devices.icao9303.sod import parse_sod
from devices.protocols import MrzKey
from devices.simulated.factory import (
    DEFECTS,
    DocumentSpec,
    FactoryError,
    default_face_jpeg,
    make_document,
)
from devices.simulated.pki import TestPki
from devices.simulated.virtual_passport import VirtualPassport, VirtualPassportError

TODAY = date(2026, 11, 26)


def _hash_mismatches(passport: VirtualPassport) -> list[int]:
    sod = parse_sod(passport.files["EF.SOD"])
    return [
        n
        for n, digest in sod.dg_hashes.items()
        if hashlib.new(sod.digest_algorithm, passport.files[f"DG{n}"]).digest() != digest
    ]


def _sod_signature_valid(passport: VirtualPassport) -> bool:
    sod = parse_sod(passport.files["EF.SOD"])
    signer = sod.signer_infos[0]
    ds = x509.load_der_x509_certificate(passport.ds_cert_der or b"")
    key = ds.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            signer.signature, signer.signed_attrs_der or b"", padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


@pytest.fixture(scope="module")
def genuine(test_pki: TestPki) -> VirtualPassport:
    return make_document(pki=test_pki, now=TODAY)


def test_default_document_is_complete_and_valid(genuine: VirtualPassport) -> None:
    files = genuine.files
    assert set(files) == {
        "EF.COM", "EF.SOD", "EF.CardAccess", "DG1", "DG2", "DG11", "DG12", "DG14", "DG15",
    }  # fmt: skip
    assert EfCom.parse(files["EF.COM"]).data_groups == [1, 2, 11, 12, 14, 15]
    mrz = DataGroup1.parse(files["DG1"], today=TODAY).mrz
    assert (mrz.surname, mrz.given_names, mrz.issuing_state) == ("ERIKSSON", "ANNA MARIA", "UTO")
    assert mrz.expiry_date == date(2031, 11, 26) and mrz.birth_date == date(1974, 8, 12)
    assert genuine.mrz == mrz.lines()
    assert genuine.mrz_key() == MrzKey("L898902C3", "740812", "311126")
    assert len(genuine.can) == 6 and genuine.can.isdigit()
    assert genuine.can_key() == MrzKey(can=genuine.can)
    assert (genuine.pace, genuine.bac, genuine.extended_length) == (True, True, True)
    assert genuine.defects == ()
    assert _hash_mismatches(genuine) == []
    assert _sod_signature_valid(genuine)
    sod = parse_sod(files["EF.SOD"])
    assert sorted(sod.dg_hashes) == [1, 2, 11, 12, 14, 15] and sod.lds_version == (1, 8)
    ds = x509.load_der_x509_certificate(genuine.ds_cert_der or b"")
    csca = x509.load_der_x509_certificate(genuine.csca_cert_der)
    ds.verify_directly_issued_by(csca)
    assert DataGroup11.parse(files["DG11"]).full_name == "ERIKSSON<<ANNA MARIA"
    assert DataGroup12.parse(files["DG12"]).issue_date() == date(2021, 11, 26)


def test_face_is_the_default_portrait(genuine: VirtualPassport) -> None:
    face = DataGroup2.parse(genuine.files["DG2"]).face
    assert face.image_format == "jpeg" and (face.width, face.height) == (360, 480)
    assert face.gender == 2
    assert 14_000 <= len(face.image_bytes) <= 21_000
    assert face.image_bytes == genuine.face_image == default_face_jpeg()


def test_chip_keys_match_dg14_and_dg15(genuine: VirtualPassport) -> None:
    infos = DataGroup14.parse(genuine.files["DG14"]).security_infos
    (pk,) = infos.chip_authentication_public_keys
    ca_key = genuine.ca_key()
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey) and ca_key.curve.name == "secp256r1"
    assert pk.public_key.to_cryptography().public_numbers() == ca_key.public_key().public_numbers()
    (ca_info,) = infos.chip_authentication_infos
    assert (ca_info.key_agreement, ca_info.cipher, ca_info.key_length) == ("ECDH", "AES", 128)
    assert infos.pace_infos == SecurityInfos.parse(genuine.files["EF.CardAccess"]).pace_infos
    aa_key = genuine.aa_key()
    assert isinstance(aa_key, rsa.RSAPrivateKey) and aa_key.key_size == 2048
    dg15_key = DataGroup15.parse(genuine.files["DG15"]).public_key()
    assert dg15_key.public_numbers() == aa_key.public_key().public_numbers()


def test_card_access_pace_info(genuine: VirtualPassport) -> None:
    (pace,) = SecurityInfos.parse(genuine.files["EF.CardAccess"]).pace_infos
    assert pace.protocol == "0.4.0.127.0.7.2.2.4.2.2"  # id-PACE-ECDH-GM-AES-CBC-CMAC-128
    assert (pace.parameter_id, pace.domain_parameters) == (12, "secp256r1")


@pytest.mark.parametrize(
    ("parameter_id", "curve", "bits"),
    [(13, "brainpoolP256r1", 128), (15, "secp384r1", 256), (16, "brainpoolP384r1", 256)],
)
def test_pace_parameter_choice(test_pki: TestPki, parameter_id: int, curve: str, bits: int) -> None:
    passport = make_document(
        DocumentSpec(pace_parameter_id=parameter_id), pki=test_pki, now=TODAY, defects=["no_aa"]
    )
    (pace,) = SecurityInfos.parse(passport.files["EF.CardAccess"]).pace_infos
    assert (pace.domain_parameters, pace.key_length, pace.mapping) == (curve, bits, "GM")


def test_custom_fields_and_td1(test_pki: TestPki) -> None:
    spec = DocumentSpec(
        document_code="ID",
        surname="Müller",
        given_names="Jürgen",
        document_number="X12345",
        sex="M",
        birth_date=date(2001, 2, 3),
        expiry_date=date(2030, 5, 6),
        optional_data="",
        mrz_format="TD1",
        face_record="ISO39794-5",
        can="123456",
        include_dg11=False,
        include_dg12=False,
        extended_length=False,
    )
    passport = make_document(spec, pki=test_pki, now=TODAY, defects=["no_aa", "no_ca"])
    mrz = DataGroup1.parse(passport.files["DG1"], today=TODAY).mrz
    assert mrz.format == "TD1" and mrz.surname == "MULLER" and mrz.given_names == "JURGEN"
    assert passport.can == "123456" and not passport.extended_length
    assert DataGroup2.parse(passport.files["DG2"]).face.record_format == "ISO39794-5"
    assert EfCom.parse(passport.files["EF.COM"]).data_groups == [1, 2]
    assert _hash_mismatches(passport) == []


def test_jpeg2000_codestream_portrait(test_pki: TestPki) -> None:
    passport = make_document(
        DocumentSpec(face_format="jpeg2000"), pki=test_pki, now=TODAY, defects=["no_aa"]
    )
    face = DataGroup2.parse(passport.files["DG2"]).face
    assert face.image_bytes[:4].hex() == "ff4fff51" and face.is_codestream
    assert (face.image_format, face.image_data_type) == ("jpeg2000", 1)
    assert face.decode().shape == (480, 360, 3)
    assert len(face.image_bytes) < 20_000


def test_face_in_another_format_is_reencoded(test_pki: TestPki) -> None:
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 180, 160)).save(png, "PNG")
    passport = make_document(
        DocumentSpec(face_image=png.getvalue()), pki=test_pki, now=TODAY, defects=["no_aa"]
    )
    face = DataGroup2.parse(passport.files["DG2"]).face
    assert face.image_format == "jpeg" and (face.width, face.height) == (120, 160)
    with pytest.raises(FactoryError, match="cannot be read"):
        make_document(DocumentSpec(face_image=b"not an image"), pki=test_pki, now=TODAY)


# -- defects -----------------------------------------------------------------------------
def _make(test_pki: TestPki, *defects: str) -> VirtualPassport:
    return make_document(pki=test_pki, now=TODAY, defects=defects)


def test_defect_expired(test_pki: TestPki) -> None:
    passport = _make(test_pki, "expired")
    mrz = DataGroup1.parse(passport.files["DG1"], today=TODAY).mrz
    assert mrz.expiry_date is not None and mrz.expiry_date < TODAY
    assert _hash_mismatches(passport) == [] and _sod_signature_valid(passport)


def test_defect_bad_check_digit(test_pki: TestPki) -> None:
    passport = _make(test_pki, "bad_check_digit")
    with pytest.raises(MrzError, match="document_number"):
        DataGroup1.parse(passport.files["DG1"], today=TODAY)
    assert _hash_mismatches(passport) == []  # signed as issued: the issuer's mistake
    assert passport.mrz_key() == MrzKey("L898902C3", "740812", "311126")


def test_defect_tampered_dg1(test_pki: TestPki, genuine: VirtualPassport) -> None:
    passport = _make(test_pki, "tampered_dg1")
    assert _hash_mismatches(passport) == [1]
    assert DataGroup1.parse(passport.files["DG1"], today=TODAY).mrz.surname == "MALLORY"
    assert passport.mrz == genuine.mrz  # the printed page still shows the real holder
    assert _sod_signature_valid(passport)


def test_defect_tampered_dg2(test_pki: TestPki) -> None:
    passport = _make(test_pki, "tampered_dg2")
    assert _hash_mismatches(passport) == [2]
    face = DataGroup2.parse(passport.files["DG2"]).face
    assert face.decode().shape == (480, 360, 3)  # still a displayable image


def test_defect_wrong_sod_signature(test_pki: TestPki) -> None:
    passport = _make(test_pki, "wrong_sod_signature")
    assert _hash_mismatches(passport) == []
    assert not _sod_signature_valid(passport)


def test_defect_cloned_chip(test_pki: TestPki) -> None:
    passport = _make(test_pki, "cloned_chip")
    assert passport.ca_private_key is None and passport.aa_private_key is None
    assert {"DG14", "DG15"} <= set(passport.files)
    assert _hash_mismatches(passport) == [] and _sod_signature_valid(passport)


def test_defect_bac_only(test_pki: TestPki) -> None:
    passport = _make(test_pki, "bac_only")
    assert "EF.CardAccess" not in passport.files
    assert (passport.pace, passport.bac, passport.pace_parameter_id) == (False, True, None)
    assert DataGroup14.parse(passport.files["DG14"]).security_infos.pace_infos == []


def test_defect_huge_dg2(test_pki: TestPki) -> None:
    passport = _make(test_pki, "huge_dg2")
    assert 60 * 1024 < len(passport.files["DG2"]) < 120 * 1024
    assert DataGroup2.parse(passport.files["DG2"]).face.image_format == "jpeg"
    assert _hash_mismatches(passport) == []


def test_defect_no_aa(test_pki: TestPki) -> None:
    passport = _make(test_pki, "no_aa")
    assert "DG15" not in passport.files and passport.aa_private_key is None
    assert 15 not in EfCom.parse(passport.files["EF.COM"]).data_groups
    assert 15 not in parse_sod(passport.files["EF.SOD"]).dg_hashes


def test_defect_no_ca(test_pki: TestPki) -> None:
    passport = _make(test_pki, "no_ca")
    assert "DG14" not in passport.files and passport.ca_private_key is None
    assert passport.aa_private_key is not None
    assert 14 not in parse_sod(passport.files["EF.SOD"]).dg_hashes


def test_pace_only_chip(test_pki: TestPki) -> None:
    passport = make_document(DocumentSpec(bac=False), pki=test_pki, now=TODAY, defects=["no_aa"])
    assert (passport.pace, passport.bac) == (True, False)
    assert "EF.CardAccess" in passport.files
    assert passport.manifest()["access"]["bac"] is False


def test_default_portrait_holds_one_detectable_face() -> None:
    face_recognition = pytest.importorskip("face_recognition")
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(default_face_jpeg())).convert("RGB"))
    (top, right, bottom, left), *others = face_recognition.face_locations(pixels)
    assert others == []
    assert 0.3 < (right - left) / pixels.shape[1] < 0.9  # a portrait, not a crowd shot
    assert top < pixels.shape[0] / 2 < bottom


def test_china_like_profile(test_pki: TestPki) -> None:
    passport = _make(test_pki, "bac_only", "no_ca")
    assert set(passport.files) == {"EF.COM", "EF.SOD", "DG1", "DG2", "DG11", "DG12", "DG15"}


def test_unknown_defect_and_bad_fields(test_pki: TestPki) -> None:
    with pytest.raises(FactoryError, match="unknown defect"):
        _make(test_pki, "forged")
    with pytest.raises(FactoryError, match="MRZ fields"):
        make_document(DocumentSpec(surname="王"), pki=test_pki, now=TODAY)
    with pytest.raises(FactoryError, match="PACE or BAC"):
        make_document(DocumentSpec(pace=False, bac=False), pki=test_pki, now=TODAY)
    assert set(DEFECTS) == {
        "expired", "bad_check_digit", "tampered_dg1", "tampered_dg2", "wrong_sod_signature",
        "cloned_chip", "bac_only", "huge_dg2", "no_aa", "no_ca",
    }  # fmt: skip


# -- on disk -----------------------------------------------------------------------------
def test_save_and_load_round_trip(genuine: VirtualPassport, tmp_path: Path) -> None:
    manifest = genuine.save(tmp_path / "doc")
    names = {p.name for p in (tmp_path / "doc").iterdir()}
    assert {"EF.COM", "EF.SOD", "EF.CardAccess", "DG1.bin", "DG2.bin", "DG14.bin"} <= names
    assert any("csca" in name for name in names) and "manifest.json" in names
    on_disk = json.loads((tmp_path / "doc" / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["mrz_key"] == {
        "document_number": "L898902C3", "birth_date": "740812", "expiry_date": "311126",
    }  # fmt: skip
    assert manifest["access"]["pace"] is True and manifest["defects"] == []
    assert (tmp_path / "doc" / "DG2.bin").read_bytes() == genuine.files["DG2"]
    pem = (tmp_path / "doc" / "csca.pem").read_bytes()
    assert (
        x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
        == genuine.csca_cert_der
    )
    loaded = VirtualPassport.load(tmp_path / "doc")
    assert loaded == genuine


def test_cloned_chip_saves_without_keys(test_pki: TestPki, tmp_path: Path) -> None:
    _make(test_pki, "cloned_chip").save(tmp_path)
    loaded = VirtualPassport.load(tmp_path)
    assert loaded.ca_private_key is None and loaded.aa_private_key is None
    assert not list(tmp_path.glob("*_key.pem"))


def test_load_rejects_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(VirtualPassportError, match="no manifest"):
        VirtualPassport.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(VirtualPassportError, match="not a virtual passport"):
        VirtualPassport.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "egate-virtual-passport"}')
    with pytest.raises(VirtualPassportError, match="incomplete"):
        VirtualPassport.load(tmp_path)


@pytest.mark.parametrize(
    "manifest",
    [
        '{"format": "egate-virtual-passport", "files": ["DG1"]}',
        '{"format": "egate-virtual-passport", "files": {"DG1": "../../etc/passwd"}}',
        "[1, 2]",
        "{not json",
    ],
)
def test_load_rejects_hostile_manifests(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "manifest.json").write_text(manifest)
    with pytest.raises(VirtualPassportError):
        VirtualPassport.load(tmp_path)
