"""Issue 11 item 1: EF.SOD content types seen in field passports are accepted by name,
each reported in the verdict's notes; anything else stays malformed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from devices.icao9303 import sod
from devices.icao9303.reader import read_chip
from devices.simulated import pki
from devices.simulated.emulator import ChipEmulator
from devices.simulated.factory import DocumentSpec, make_document
from devices.simulated.transport import InProcessTransport
from kiosk.trust import CscaStore, PassiveAuthenticator
from tests.trust.conftest import DGS, NOW, document, files_of, verify

ID_DATA = "1.2.840.113549.1.7.1"
ICAO_OLD_ARC = "1.3.27.1.1.1"


@pytest.mark.parametrize(
    ("content_type", "quirk"),
    [(ID_DATA, "sod_content_type_id_data"), (ICAO_OLD_ARC, "sod_content_type_icao_1_3_27")],
)
def test_known_content_type_quirks_verify_and_are_noted(
    rsa_pki: pki.TestPki, content_type: str, quirk: str
) -> None:
    verdict = verify(document(rsa_pki, content_type=content_type), [rsa_pki.csca_der()])
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert verdict["sod"]["quirks"] == [quirk]
    assert [n for n in verdict["notes"] if n.startswith(f"quirk {quirk}: ")]


def test_the_standard_content_type_has_no_quirk(rsa_pki: pki.TestPki) -> None:
    verdict = verify(document(rsa_pki), [rsa_pki.csca_der()])
    assert verdict["verdict"] == "valid"
    assert verdict["sod"]["quirks"] == [] and not verdict["notes"]


def test_an_unlisted_content_type_is_malformed(rsa_pki: pki.TestPki) -> None:
    # The Enschede SDU test OID is accepted by JMRTD, but no field passport needs it.
    verdict = verify(document(rsa_pki, content_type="1.2.528.1.1006.1.20.1"),
                     [rsa_pki.csca_der()])
    assert verdict["reason"] == "malformed_sod"
    assert "eContentType 1.2.528.1.1006.1.20.1" in verdict["notes"][0]


def test_a_quirk_still_needs_a_matching_content_type_attribute(rsa_pki: pki.TestPki) -> None:
    econtent = sod.build_lds_security_object(DGS, lds_version=(1, 8))
    signed = pki.build_signed_data(
        ID_DATA, econtent, rsa_pki.ds_cert, rsa_pki.ds_key, signing_time=NOW,
        certificates=[rsa_pki.ds_cert], content_type_attribute=sod.ID_LDS_SECURITY_OBJECT,
    )
    verdict = verify(files_of(sod.wrap(signed)), [rsa_pki.csca_der()])
    assert verdict["reason"] == "content_type_mismatch"


def test_a_quirk_does_not_excuse_a_tampered_data_group(rsa_pki: pki.TestPki) -> None:
    files = document(rsa_pki, content_type=ID_DATA)
    files["DG1"] = files["DG1"][:-1] + b"X"
    assert verify(files, [rsa_pki.csca_der()])["reason"] == "hash_mismatch_dg1"


@pytest.mark.parametrize("content_type", [ID_DATA, ICAO_OLD_ARC])
def test_a_quirk_passport_read_from_the_emulated_chip_verifies(content_type: str) -> None:
    p = pki.make_test_pki("CHN")
    vp = make_document(DocumentSpec(issuing_state="CHN", nationality="CHN"), pki=p)
    numbers = sorted(int(n[2:]) for n in vp.files if n.startswith("DG"))
    quirky = pki.build_sod({n: vp.files[f"DG{n}"] for n in numbers}, p.ds_cert, p.ds_key,
                           lds_version=(1, 8), content_type=content_type)
    vp = dataclasses.replace(vp, files={**vp.files, "EF.SOD": quirky})
    read = read_chip(InProcessTransport(ChipEmulator.from_passport(vp)), vp.mrz_key())
    assert (read.chip_authentication, read.active_authentication) == ("passed", "passed")
    verdict = PassiveAuthenticator(CscaStore.from_certificates([p.csca_der()])).verify(
        read.files, datetime.now(UTC)).to_dict()
    assert verdict["verdict"] == "valid", verdict["reasons"]
    assert len(verdict["sod"]["quirks"]) == 1
