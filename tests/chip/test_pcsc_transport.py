"""PcscTransport's T=0 handling (61xx GET RESPONSE, 6Cxx) and endpoint parsing, offline."""

from __future__ import annotations

import threading

import pytest

from devices.errors import DeviceFault
from devices.icao9303.pcsc import PcscTransport
from devices.simulated.vpcd import parse_endpoint


def transport_with(answers: dict[bytes, bytes]) -> tuple[PcscTransport, list[bytes]]:
    sent: list[bytes] = []
    transport = object.__new__(PcscTransport)
    transport._lock = threading.Lock()
    transport._closed = False

    def raw(apdu: bytes) -> bytes:
        sent.append(apdu)
        return answers[apdu]

    transport._raw = raw  # type: ignore[method-assign]
    return transport, sent


def test_get_response_chain() -> None:
    transport, sent = transport_with(
        {
            bytes.fromhex("00B0000000"): bytes.fromhex("0102 6104"),
            bytes.fromhex("00C0000004"): bytes.fromhex("03040506 6102"),
            bytes.fromhex("00C0000002"): bytes.fromhex("0708 9000"),
        }
    )
    assert transport.transmit(bytes.fromhex("00B0000000")) == bytes.fromhex("0102030405060708 9000")
    assert len(sent) == 3


def test_wrong_le_is_repeated_with_the_length_the_card_names() -> None:
    transport, sent = transport_with(
        {
            bytes.fromhex("0084000000"): bytes.fromhex("6C08"),
            bytes.fromhex("0084000008"): bytes.fromhex("1122334455667788 9000"),
        }
    )
    assert transport.transmit(bytes.fromhex("0084000000")).hex() == "11223344556677889000"
    assert sent[-1] == bytes.fromhex("0084000008")


def test_endless_61xx_is_a_device_fault() -> None:
    transport, _ = transport_with(
        {
            bytes.fromhex("00B0000000"): bytes.fromhex("6101"),
            bytes.fromhex("00C0000001"): b"\x00\x61\x01",
        }
    )
    with pytest.raises(DeviceFault):
        transport.transmit(bytes.fromhex("00B0000000"))


def test_parse_endpoint() -> None:
    assert parse_endpoint("127.0.0.1:35963") == ("127.0.0.1", 35963)
    assert parse_endpoint("35964") == ("127.0.0.1", 35964)
    for bad in ("host:", "host:port", "1.2.3.4:70000"):
        with pytest.raises(ValueError):
            parse_endpoint(bad)
