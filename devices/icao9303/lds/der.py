"""The few DER primitives the LDS needs (X.690), built on the BER-TLV codec.

Kept small on purpose: INTEGER, OBJECT IDENTIFIER, OCTET STRING, BOOLEAN and the
constructed wrappers. Decoders check the tag and the encoding rules they rely on.
"""

from __future__ import annotations

from devices.icao9303.lds import LdsError
from devices.icao9303.tlv import Tlv, encode_tlv

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
SEQUENCE = 0x30
SET = 0x31
MAX_INTEGER_BYTES = 1024  # bounds big-number work on hostile input


def encode_integer(value: int, tag: int = INTEGER) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    return encode_tlv(tag, value.to_bytes(size, "big", signed=True))


def decode_integer(item: Tlv, tag: int = INTEGER, what: str = "INTEGER") -> int:
    if item.tag != tag:
        raise LdsError(f"{what}: tag {item.tag:X} found, {tag:X} expected")
    if not item.value:
        raise LdsError(f"{what}: empty INTEGER")
    if len(item.value) > MAX_INTEGER_BYTES:
        raise LdsError(f"{what}: INTEGER of {len(item.value)} bytes is too long")
    return int.from_bytes(item.value, "big", signed=True)


def encode_oid(dotted: str) -> bytes:
    try:
        arcs = [int(part) for part in dotted.split(".")]
    except ValueError as exc:
        raise LdsError(f"OID {dotted!r} is not dotted decimal") from exc
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise LdsError(f"OID {dotted!r} is invalid")
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode_tlv(OID, bytes(body))


def decode_oid(item: Tlv, what: str = "OBJECT IDENTIFIER") -> str:
    if item.tag != OID:
        raise LdsError(f"{what}: tag {item.tag:X} found, OBJECT IDENTIFIER expected")
    data = item.value
    if not data or data[-1] & 0x80:
        raise LdsError(f"{what}: truncated OBJECT IDENTIFIER")
    if len(data) > 64:
        raise LdsError(f"{what}: OBJECT IDENTIFIER of {len(data)} bytes is too long")
    arcs: list[int] = []
    value = 0
    for byte in data:
        if value == 0 and byte == 0x80:
            raise LdsError(f"{what}: OBJECT IDENTIFIER arc is not minimally encoded")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else ([1, first - 40] if first < 80 else [2, first - 80])
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_octet_string(value: bytes, tag: int = OCTET_STRING) -> bytes:
    return encode_tlv(tag, value)


def sequence(*parts: bytes, tag: int = SEQUENCE) -> bytes:
    return encode_tlv(tag, b"".join(parts))
