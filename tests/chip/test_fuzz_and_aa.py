"""Hostile bytes against the SM decoder, the APDU parser and the emulator; AA signatures."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import ChipError
from devices.icao9303.active_authentication import verify_ecdsa_plain, verify_iso9796_2
from devices.icao9303.apdu import ApduError, CommandApdu, ResponseApdu
from devices.icao9303.reader import read_chip
from devices.icao9303.secure_messaging import SecureMessaging
from devices.icao9303.tlv import encode_tlv
from devices.simulated.chip_signing import sign_ecdsa_plain, sign_iso9796_2
from devices.simulated.emulator import ChipEmulator
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import VirtualPassport

KEY = bytes(range(16))


def _sm_objects() -> st.SearchStrategy[bytes]:
    tag = st.sampled_from([0x85, 0x87, 0x97, 0x99, 0x8E, 0x81, 0x53, 0x01])
    obj = st.builds(lambda t, v: encode_tlv(t, v), tag, st.binary(max_size=40))
    return st.lists(obj, max_size=5).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300), _sm_objects().map(lambda b: b + b"\x90\x00")))
def test_sm_response_decoder_raises_only_chip_errors(raw: bytes) -> None:
    for sm in (SecureMessaging.aes(KEY, KEY, 7), SecureMessaging.tdes(KEY, KEY, bytes(8))):
        sm.protect(CommandApdu(0x00, 0xB0, 0, 0, ne=16))
        try:
            resp = sm.unprotect(raw)
        except ChipError:
            continue
        # only a bare error status word gets through without a MAC
        assert resp.data == b"" and len(raw) == 2 and resp.sw != 0x9000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_command_apdu_decoder(raw: bytes) -> None:
    try:
        cmd = CommandApdu.decode(raw)
    except ApduError:
        return
    assert CommandApdu.decode(cmd.encode(extended=len(raw) > 5 and raw[4] == 0)) == cmd


_EMULATORS: dict[int, ChipEmulator] = {}


def _emulator(vp: VirtualPassport) -> ChipEmulator:
    if id(vp) not in _EMULATORS:
        _EMULATORS[id(vp)] = ChipEmulator.from_passport(vp)
    return _EMULATORS[id(vp)]


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=120))
def test_emulator_answers_any_bytes(raw: bytes, pace_passport: VirtualPassport) -> None:
    card = _emulator(pace_passport)
    card.power_on()
    response = card.process(raw)
    assert len(response) >= 2
    ResponseApdu.decode(response)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 1024)


def test_iso9796_2_round_trip_and_tamper(rsa_key: rsa.RSAPrivateKey) -> None:
    challenge = os.urandom(8)
    signature = sign_iso9796_2(rsa_key, challenge)
    public = rsa_key.public_key()
    assert verify_iso9796_2(public, signature, challenge)
    assert not verify_iso9796_2(public, signature, bytes(8))
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_iso9796_2(public, tampered, challenge)
    # the n - s form of ISO/IEC 9796-2 is accepted too
    n = public.public_numbers().n
    alt = (n - int.from_bytes(signature, "big")).to_bytes(128, "big")
    assert verify_iso9796_2(public, alt, challenge)
    assert not verify_iso9796_2(public, b"", challenge)


def test_ecdsa_plain_round_trip() -> None:
    key = ec.generate_private_key(ec.BrainpoolP256R1())
    challenge = os.urandom(8)
    signature = sign_ecdsa_plain(key, challenge, hashes.SHA256())
    assert len(signature) == 64
    assert verify_ecdsa_plain(key.public_key(), signature, challenge, hashes.SHA256())
    assert not verify_ecdsa_plain(key.public_key(), signature, bytes(8), hashes.SHA256())
    assert not verify_ecdsa_plain(key.public_key(), signature[:-1], challenge, hashes.SHA256())


def _hostile(tag: int) -> st.SearchStrategy[bytes]:
    """Random bytes, a random value under the right tag, or a header claiming up to 16 MB."""
    return st.one_of(
        st.binary(max_size=200),
        st.builds(encode_tlv, st.just(tag), st.binary(max_size=200)),
        st.integers(0, 0xFFFFFF).map(lambda n: bytes([tag, 0x83]) + n.to_bytes(3, "big")),
    )


_HOSTILE_FILES = st.fixed_dictionaries(
    {},
    optional={
        name: _hostile(tag)
        for name, tag in (("EF.COM", 0x60), ("DG1", 0x61), ("DG14", 0x6E), ("DG15", 0x6F))
    },
)


@settings(max_examples=60, deadline=None)
@given(hostile=_HOSTILE_FILES)
def test_reader_survives_hostile_files(
    hostile: dict[str, bytes], make_passport: Callable[..., VirtualPassport]
) -> None:
    vp = make_passport("bac_only")
    card = ChipEmulator.from_passport(dataclasses.replace(vp, files={**vp.files, **hostile}))
    try:
        result = read_chip(InProcessTransport(card), vp.mrz_key())
    except ChipError:
        return
    for name, raw in hostile.items():
        if name in result.files:
            assert result.files[name] == raw[: len(result.files[name])]
    assert result.chip_authentication in ("passed", "failed", "not_supported")
    assert result.active_authentication in ("passed", "failed", "not_supported")
